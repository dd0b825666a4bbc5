/**
 * A local, bare, usually shallow copy of one remote repository, kept with isomorphic-git. It answers
 * "what is the head of branch B" without downloading objects, fetches branches incrementally, and
 * reads files and trees at exact commits. Nothing here reads a worktree: there is none.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import * as git from 'isomorphic-git';
import nodeHttp, { type HttpClient } from 'isomorphic-git/http/node';
import { GantryError, errorMessage } from '../errors.js';
import { assertBranchName } from '../git/branch-name.js';
import { assertSha } from '../git/commit-id.js';
import { withExclusive, withShared } from './dir-lock.js';
import { FetchBudget } from './fetch-budget.js';
import { branchNotFound, commitNotCached, isIsoGitError, remoteFailure } from './git-errors.js';
import type { TreeEntry } from './git-tree.js';
import { ObjectSizes } from './object-size.js';
import { PackIndexedNatively, packGuardedFs } from './pack-guard.js';
import { joinRepoPath, normalizeRepoPath } from './repo-path.js';
import { redactUrl, splitUrlCredentials, type RemoteCredentials } from './remote-url.js';
import { DEFAULT_SOURCE_LIMITS, tooLarge, type SourceLimits } from './source-limits.js';

/** Who wrote or committed a commit; `timestamp` is in seconds since the epoch. */
export interface GitIdentity {
  readonly name: string;
  readonly email: string;
  readonly timestamp: number;
  /** Minutes west of UTC, as isomorphic-git reports it. */
  readonly timezoneOffset: number;
}

/** The metadata of one commit. */
export interface CommitInfo {
  readonly sha: string;
  readonly message: string;
  readonly author: GitIdentity;
  readonly committer: GitIdentity;
  readonly parents: string[];
}

/** What changed between earlier heads and a later one; see {@link RepoCache.changesSince}. */
export type ChangesSince =
  | { readonly kind: 'paths'; readonly paths: readonly string[] }
  | { readonly kind: 'unknown' | 'diverged'; readonly base: string }
  | { readonly kind: 'unreadable'; readonly base: string; readonly message: string };

/** How to reach the remote and where to keep the cache. */
export interface RepoCacheOptions {
  readonly url: string;
  /** The cache directory, one per repository; created on the first fetch. */
  readonly dir: string;
  /** HTTPS credentials (a token as `password`); never logged, never put in a message. */
  readonly credentials?: RemoteCredentials | undefined;
  /** Give up on a connection idle this long (ms); default 60 s (also `limits.idleTimeoutMs`). */
  readonly idleTimeoutMs?: number;
  /** Caps on what one fetch may download and one read may hold (DEFAULT_SOURCE_LIMITS). */
  readonly limits?: Partial<SourceLimits> | undefined;
  /** Who indexes fetched packs: node's zlib and SHA-1 (default), or isomorphic-git (to compare). */
  readonly packIndexer?: 'native' | 'isomorphic-git';
}

// Deepening an old-commit lookup: a little first (rollbacks are usually recent), then everything.
const DEEPEN_STEPS = [50, 500] as const;
const UNSHALLOW = 2147483647; // git's INFINITE_DEPTH, what `git fetch --unshallow` sends

/** A cached clone of one remote; safe to share within a process (fetches are serialized per dir). */
export class RepoCache {
  /** The remote URL without credentials: the only form that may appear in messages. */
  readonly url: string;
  readonly dir: string;
  private readonly credentials: RemoteCredentials | undefined;
  private readonly http: HttpClient;
  readonly limits: SourceLimits;
  // isomorphic-git memoizes parsed pack indexes here, and the packs it read (whole, in memory);
  // packs are immutable, so it never goes stale. forgetPacks() lets the memory go.
  private objectCache: object = {};
  // The pack indexes, read once, that object sizes are looked up in; forgotten with the packs.
  private readonly sizes: ObjectSizes;
  private readonly nativeIndex: boolean;

  constructor(opts: RepoCacheOptions) {
    const { url, credentials } = splitUrlCredentials(opts.url, opts.credentials);
    this.url = url;
    this.credentials = credentials;
    this.dir = path.resolve(opts.dir);
    this.limits = {
      ...DEFAULT_SOURCE_LIMITS,
      ...opts.limits,
      ...(opts.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: opts.idleTimeoutMs }),
    };
    this.http = nodeHttp;
    this.nativeIndex = opts.packIndexer !== 'isomorphic-git';
    this.sizes = new ObjectSizes(this.dir);
  }

  /** An http client for one conversation with the remote, under the pack size and time caps. */
  private budget(): FetchBudget {
    return new FetchBudget(this.http, this.limits, this.url);
  }

  /**
   * Drops the packs isomorphic-git read into memory (it keeps each one it read an object from).
   * Reads in flight keep what they hold; the next read loads the pack again.
   */
  forgetPacks(): void {
    this.objectCache = {};
    this.sizes.forget();
  }

  /** The remote head of `branch` from the ref advertisement alone (no objects), or null if absent. */
  async headOf(branch: string): Promise<string | null> {
    const ref = `refs/heads/${assertBranchName(branch)}`;
    const budget = this.budget();
    try {
      // Protocol v2 filters by prefix on the server; a v1 server sends all refs and we filter here.
      const refs = await git.listServerRefs({
        http: budget.http,
        url: this.url,
        prefix: ref,
        protocolVersion: 2,
        onAuth: this.onAuth,
      });
      return refs.find((r) => r.ref === ref)?.oid ?? null;
    } catch (e) {
      throw (
        budget.error() ??
        remoteFailure(`listing refs of ${this.url}`, this.url, e, this.credentials?.password)
      );
    } finally {
      budget.close();
    }
  }

  /**
   * Fetches `branch` and points the local `refs/heads/<branch>` at it; returns the fetched head.
   * The first fetch of a branch is shallow (depth 1) unless `depth` says otherwise (`Infinity`:
   * the whole history); later ones fetch only what is new.
   */
  async fetch(branch: string, opts: { depth?: number } = {}): Promise<string> {
    assertBranchName(branch);
    const { depth } = opts;
    if (depth !== undefined && depth !== Infinity && !(Number.isInteger(depth) && depth > 0)) {
      throw new RangeError(`fetch depth must be a positive integer or Infinity, not ${depth}`);
    }
    return withExclusive(this.dir, () => this.fetchLocked(branch, depth, false));
  }

  /**
   * Makes sure commit `sha`, reachable from `branch`, is in the cache: fetches the branch, then
   * deepens the shallow history until the commit appears. Throws GANTRY_ERR_GIT_NOT_FOUND when the
   * whole history of the branch does not contain it.
   */
  async ensureCommit(sha: string, branch: string): Promise<void> {
    assertSha(sha);
    assertBranchName(branch);
    if (await withShared(this.dir, () => this.hasCommit(sha))) return;
    await withExclusive(this.dir, async () => {
      if (await this.hasCommit(sha)) return; // another caller fetched it while we waited
      await this.fetchLocked(branch, undefined, false);
      for (const step of [...DEEPEN_STEPS, UNSHALLOW]) {
        if ((await this.hasCommit(sha)) || !(await this.isShallow())) break;
        // Relative deepening extends the history we have, from its current shallow boundary.
        await this.fetchLocked(branch, step, step !== UNSHALLOW);
      }
      if (!(await this.hasCommit(sha))) {
        throw new GantryError(
          'GANTRY_ERR_GIT_NOT_FOUND',
          `commit ${sha} is not in the history of branch ${JSON.stringify(branch)} of ${this.url}`,
          { details: { url: this.url, branch, sha } },
        );
      }
    });
  }

  /**
   * The content of the regular file at `filePath` in commit `sha`, or null when there is none
   * (absent, a directory, a symlink or a submodule). The commit must be in the cache. A file over
   * `maxBytes` (default: the blob cap) is refused with GANTRY_ERR_SOURCE_LIMIT before it is read.
   */
  async readFile(
    sha: string,
    filePath: string,
    opts: { maxBytes?: number } = {},
  ): Promise<Buffer | null> {
    assertSha(sha);
    const file = normalizeRepoPath(filePath);
    if (file === '') return null;
    return withShared(this.dir, async () => {
      const slash = file.lastIndexOf('/');
      const entries = await this.treeAt(sha, slash === -1 ? '' : file.slice(0, slash));
      const name = file.slice(slash + 1);
      const entry = entries?.find((e) => e.path === name);
      if (entry === undefined || entry.type !== 'blob' || entry.mode === '120000') return null;
      await this.checkBlobSize(entry.oid, file, opts.maxBytes);
      const { blob } = await git.readBlob({
        fs,
        gitdir: this.dir,
        oid: entry.oid,
        cache: this.objectCache,
      });
      return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    });
  }

  /** The metadata of commit `sha`, which must be in the cache. */
  async commitInfo(sha: string): Promise<CommitInfo> {
    assertSha(sha);
    return withShared(this.dir, async () => {
      const commit = await this.readCommitOrNull(sha);
      if (commit === null) throw commitNotCached(this.url, sha);
      return {
        sha,
        message: commit.message,
        author: identity(commit.author),
        committer: identity(commit.committer),
        parents: [...commit.parent],
      };
    });
  }

  /**
   * Every entry under `subdir` ("" or "." for the root) in commit `sha`, recursively, directories
   * included; paths are relative to the repository root. Throws GANTRY_ERR_GIT_NOT_FOUND when
   * `subdir` is not a directory at that commit.
   */
  async listTree(sha: string, subdir: string): Promise<TreeEntry[]> {
    assertSha(sha);
    const root = normalizeRepoPath(subdir, 'directory');
    return withShared(this.dir, async () => {
      const top = await this.treeAt(sha, root);
      if (top === null) {
        throw new GantryError(
          'GANTRY_ERR_GIT_NOT_FOUND',
          `directory ${JSON.stringify(root)} does not exist at commit ${sha.slice(0, 12)}`,
          { details: { sha, path: root } },
        );
      }
      const out: TreeEntry[] = [];
      const walk = async (dir: string, entries: readonly git.TreeEntry[]): Promise<void> => {
        for (const e of entries) {
          const entryPath = joinRepoPath(dir, e.path);
          out.push({ path: entryPath, mode: e.mode, type: e.type, oid: e.oid });
          if (e.type === 'tree') {
            const { tree } = await git.readTree({
              fs,
              gitdir: this.dir,
              oid: e.oid,
              cache: this.objectCache,
            });
            await walk(entryPath, tree);
          }
        }
      };
      await walk(root, top);
      return out;
    });
  }

  /**
   * What changed from each of `bases` to `head` (all in the cache): the paths (files, symlinks,
   * submodules; repository-relative, sorted) whose entry differs from at least one base — or the
   * first base the cache does not hold (`unknown`), that is not an ancestor of `head` within
   * `depth` commits (`diverged`: a force-push, or history too far to tell), or whose diff could
   * not be read (`unreadable`). Only trees are read, never a blob, and a subtree with the same id
   * on both sides is not entered.
   */
  async changesSince(
    bases: readonly string[],
    head: string,
    depth = 10_000,
  ): Promise<ChangesSince> {
    assertSha(head);
    bases.forEach(assertSha);
    return withShared(this.dir, async () => {
      if (!(await this.hasCommit(head))) throw commitNotCached(this.url, head);
      return this.changesSinceLocked(bases, head, depth);
    });
  }

  private async changesSinceLocked(
    bases: readonly string[],
    head: string,
    depth: number,
  ): Promise<ChangesSince> {
    const paths = new Set<string>();
    for (const base of bases) {
      if (!(await this.hasCommit(base))) return { kind: 'unknown', base };
      try {
        if (!(await this.isAncestorLocked(base, head, depth))) return { kind: 'diverged', base };
        for (const p of await this.changedPathsLocked(base, head)) paths.add(p);
      } catch (e) {
        // A corrupt or missing object: the caller builds everything rather than guess.
        if (!isIsoGitError(e, 'NotFoundError') && !isIsoGitError(e, 'ObjectTypeError')) throw e;
        return { kind: 'unreadable', base, message: errorMessage(e) };
      }
    }
    return { kind: 'paths', paths: [...paths].sort() };
  }

  private async isAncestorLocked(ancestor: string, sha: string, depth: number): Promise<boolean> {
    if (ancestor === sha) return true;
    try {
      return await git.isDescendent({
        fs,
        gitdir: this.dir,
        oid: sha,
        ancestor,
        depth,
        cache: this.objectCache,
      });
    } catch (e) {
      // "Not known to be an ancestor" (too deep, or a parent missing) is what callers treat as not.
      if (isIsoGitError(e, 'MaxDepthError') || isIsoGitError(e, 'NotFoundError')) return false;
      throw e;
    }
  }

  private async changedPathsLocked(from: string, to: string): Promise<string[]> {
    if (from === to) return [];
    const changed: string[] = [];
    await git.walk({
      fs,
      gitdir: this.dir,
      cache: this.objectCache,
      trees: [git.TREE({ ref: from }), git.TREE({ ref: to })],
      map: async (filepath, [a, b]) => {
        if (filepath === '.') return true;
        const [oidA, oidB, modeA, modeB] = await Promise.all([
          a?.oid(),
          b?.oid(),
          a?.mode(),
          b?.mode(),
        ]);
        // Same id and mode on both sides: nothing below differs, so the walk does not go in.
        if (oidA === oidB && modeA === modeB) return null;
        const [typeA, typeB] = await Promise.all([a?.type(), b?.type()]);
        // Anything but a folder on either side is the path itself changing (a file edited, added,
        // removed, made executable, or replaced by a folder); a folder is walked on, so each path
        // in it that differs is listed.
        const isEntry = (t: string | undefined) => t !== undefined && t !== 'tree';
        if (isEntry(typeA) || isEntry(typeB)) changed.push(filepath);
        return true;
      },
      // Only the side effect matters; do not build the nested result.
      reduce: async () => undefined,
    });
    return changed;
  }

  /**
   * The size of blob `oid` in bytes, read from its header without inflating it; throws
   * GANTRY_ERR_GIT_NOT_FOUND when the cache does not hold it.
   */
  async blobSize(oid: string): Promise<number> {
    assertSha(oid);
    return withShared(this.dir, async () => {
      const size = await this.sizes.of(oid);
      if (size === null) {
        throw new GantryError(
          'GANTRY_ERR_GIT_NOT_FOUND',
          `object ${oid} is not in the cache of ${this.url}`,
          {
            details: { url: this.url, oid },
          },
        );
      }
      return size;
    });
  }

  /**
   * The raw bytes of blob `oid` (a file's content or a symlink's target); `what` names it in the
   * error when it is over the blob cap, which is checked before anything is read.
   */
  async readBlob(oid: string, what = `object ${oid.slice(0, 12)}`): Promise<Buffer> {
    assertSha(oid);
    return withShared(this.dir, async () => {
      await this.checkBlobSize(oid, what);
      const { blob } = await git.readBlob({ fs, gitdir: this.dir, oid, cache: this.objectCache });
      return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    });
  }

  /** Refuses blob `oid` when it is over `maxBytes` (default: the blob cap), before it is read. */
  private async checkBlobSize(oid: string, what: string, maxBytes?: number): Promise<void> {
    const limit = Math.min(maxBytes ?? Infinity, this.limits.maxBlobBytes);
    // A blob isomorphic-git can find and this reader cannot is read as before (never seen so far).
    const size = await this.sizes.of(oid);
    if (size !== null && size > limit) {
      const key = limit === this.limits.maxBlobBytes ? 'source.maxBlobSize' : 'gantry.yaml size';
      throw tooLarge(what, size, limit, key);
    }
  }

  private async fetchLocked(
    branch: string,
    depth: number | undefined,
    relative: boolean,
  ): Promise<string> {
    await this.init();
    const ref = `refs/heads/${branch}`;
    // A branch we have never fetched starts shallow: a deploy needs one commit, not the history.
    const known = await this.localHead(ref);
    const effectiveDepth =
      depth === Infinity ? undefined : (depth ?? (known === null ? 1 : undefined));
    let fetchHead: string | null;
    const budget = this.budget();
    // Indexing a pack inflates every object: one over the blob cap is refused from its header.
    const guardedFs = packGuardedFs(
      this.limits.maxBlobBytes,
      (size) =>
        tooLarge(
          `an object ${this.url} sent`,
          size,
          this.limits.maxBlobBytes,
          'source.maxBlobSize',
        ),
      this.nativeIndex,
    );
    try {
      const result = await git.fetch({
        fs: guardedFs,
        http: budget.http,
        gitdir: this.dir,
        url: this.url,
        // Full ref names on both sides: a tag called like the branch must never win.
        ref,
        remoteRef: ref,
        singleBranch: true,
        tags: false,
        ...(effectiveDepth === undefined ? {} : { depth: effectiveDepth, relative }),
        onAuth: this.onAuth,
        cache: this.objectCache,
      });
      fetchHead = result.fetchHead;
    } catch (e) {
      if (!(e instanceof PackIndexedNatively)) throw this.fetchError(e, budget, ref, branch);
      // The fetch's last step (indexing) was ours; it had already recorded the head it fetched.
      fetchHead = await this.localHead(`refs/remotes/origin/${branch}`);
    } finally {
      budget.close();
      // The fetch may have added a pack: sizes are looked up in the packs listed afresh.
      this.sizes.forget();
    }
    if (fetchHead === null) throw branchNotFound(this.url, branch); // the remote has no refs at all
    await git.writeRef({ fs, gitdir: this.dir, ref, value: fetchHead, force: true });
    return fetchHead;
  }

  /** What a failed fetch of `branch` is reported as: the limit hit, a missing branch, or the remote's error. */
  private fetchError(e: unknown, budget: FetchBudget, ref: string, branch: string): Error {
    const limit = budget.error();
    if (limit) return limit;
    if (isIsoGitError(e, 'NotFoundError') && String(e.data?.['what']) === ref) {
      return branchNotFound(this.url, branch);
    }
    const what = `fetching branch ${JSON.stringify(branch)} from ${this.url}`;
    return remoteFailure(what, this.url, e, this.credentials?.password);
  }

  /** Creates the bare cache repo once, and refuses a directory that caches another remote. */
  private async init(): Promise<void> {
    if (!fs.existsSync(path.join(this.dir, 'HEAD'))) {
      await fs.promises.mkdir(this.dir, { recursive: true });
      await git.init({ fs, gitdir: this.dir, bare: true });
      await git.setConfig({ fs, gitdir: this.dir, path: 'remote.origin.url', value: this.url });
      // isomorphic-git records what it fetched under refs/remotes/origin/ and needs the refspec.
      await git.setConfig({
        fs,
        gitdir: this.dir,
        path: 'remote.origin.fetch',
        value: '+refs/heads/*:refs/remotes/origin/*',
      });
      return;
    }
    const cached: unknown = await git.getConfig({
      fs,
      gitdir: this.dir,
      path: 'remote.origin.url',
    });
    if (cached !== this.url) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `cache directory ${this.dir} holds ${redactUrl(String(cached))}, not ${this.url}; give each repository its own directory`,
        { details: { dir: this.dir } },
      );
    }
  }

  private async localHead(ref: string): Promise<string | null> {
    try {
      return await git.resolveRef({ fs, gitdir: this.dir, ref });
    } catch (e) {
      if (isIsoGitError(e, 'NotFoundError')) return null;
      throw e;
    }
  }

  private async isShallow(): Promise<boolean> {
    // isomorphic-git has no API for it; the file format is git's: one boundary commit per line.
    const text = await fs.promises.readFile(path.join(this.dir, 'shallow'), 'utf8').catch(() => '');
    return text.trim() !== '';
  }

  private async hasCommit(sha: string): Promise<boolean> {
    return (await this.readCommitOrNull(sha)) !== null;
  }

  private async readCommitOrNull(sha: string): Promise<git.CommitObject | null> {
    try {
      const { commit } = await git.readCommit({
        fs,
        gitdir: this.dir,
        oid: sha,
        cache: this.objectCache,
      });
      return commit;
    } catch (e) {
      if (isIsoGitError(e, 'NotFoundError') || isIsoGitError(e, 'ObjectTypeError')) return null;
      throw e;
    }
  }

  /** The entries of directory `dir` at commit `sha`, or null when it is absent or not a directory. */
  private async treeAt(sha: string, dir: string): Promise<git.TreeEntry[] | null> {
    if (!(await this.hasCommit(sha))) throw commitNotCached(this.url, sha);
    try {
      const { tree } = await git.readTree({
        fs,
        gitdir: this.dir,
        oid: sha,
        ...(dir === '' ? {} : { filepath: dir }),
        cache: this.objectCache,
      });
      return tree;
    } catch (e) {
      if (isIsoGitError(e, 'NotFoundError') || isIsoGitError(e, 'ObjectTypeError')) return null;
      throw e;
    }
  }

  // An arrow function so isomorphic-git can call it detached. Called only after a 401: a second
  // 401 with these credentials ends in an HttpError, not in a retry loop.
  private readonly onAuth = (): git.GitAuth | undefined => {
    if (this.credentials === undefined) return undefined;
    return {
      username: this.credentials.username ?? 'x-access-token',
      password: this.credentials.password,
    };
  };
}

function identity(p: {
  name: string;
  email: string;
  timestamp: number;
  timezoneOffset: number;
}): GitIdentity {
  return { name: p.name, email: p.email, timestamp: p.timestamp, timezoneOffset: p.timezoneOffset };
}
