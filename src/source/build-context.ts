/**
 * The Docker build context of a commit, made from its git tree and nothing else: no worktree is
 * read, so untracked, ignored or stale files on disk can never end up in an image.
 */
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { assertSha } from '../git/commit-id.js';
import { planBuildContext, ignoreFileFor } from './context-plan.js';
import type { TreeEntry } from './git-tree.js';
import type { RepoCache } from './repo-cache.js';
import { normalizeRepoPath } from './repo-path.js';

/** A build context ready to send to the engine, with what the build log should say about it. */
export interface BuildContext {
  /** An uncompressed tar stream; consume it once. */
  readonly tar: Readable;
  /** Files and symlinks in the context. */
  readonly files: number;
  /** Total size of the files' contents. */
  readonly bytes: number;
  /** Files and symlinks left out by the ignore file. */
  readonly excluded: number;
  /** Submodules and unsafe names skipped, and the like. */
  readonly notes: readonly string[];
}

/**
 * Builds the context tar of directory `contextDir` at commit `sha` (which must be in the cache),
 * honouring its `.dockerignore` like Docker does. `dockerfile` is relative to the context
 * (default `Dockerfile`). Throws GANTRY_ERR_PATH_ESCAPE for a symlink that leads outside the
 * context, GANTRY_ERR_GIT_NOT_FOUND when the directory does not exist at that commit.
 */
export async function buildContextTar(
  cache: RepoCache,
  sha: string,
  contextDir: string,
  opts: { dockerfile?: string } = {},
): Promise<BuildContext> {
  assertSha(sha);
  const root = normalizeRepoPath(contextDir, 'build context');
  const dockerfile = normalizeRepoPath(opts.dockerfile ?? 'Dockerfile', 'dockerfile');
  const entries = relativeTo(root, await cache.listTree(sha, root));
  const byPath = new Map(entries.map((e) => [e.path, e]));

  const ignorePath = ignoreFileFor(dockerfile, new Set(byPath.keys()));
  const ignoreEntry = ignorePath === null ? undefined : byPath.get(ignorePath);
  const ignoreFile =
    ignorePath === null || ignoreEntry === undefined
      ? null
      : { path: ignorePath, text: (await cache.readBlob(ignoreEntry.oid)).toString('utf8') };
  const symlinkTargets = new Map<string, string>();
  for (const e of entries) {
    if (e.mode === '120000')
      symlinkTargets.set(e.path, (await cache.readBlob(e.oid)).toString('utf8'));
  }

  const plan = planBuildContext({ entries, symlinkTargets, dockerfile, ignoreFile });
  const notes = [...plan.notes];
  if (!byPath.has(dockerfile))
    notes.push(`no ${dockerfile} in the build context at ${sha.slice(0, 12)}`);

  // A fixed mtime (the commit's) makes the same commit always give the same tar.
  const mtime = new Date((await cache.commitInfo(sha)).committer.timestamp * 1000);
  const pack = tar.pack();
  let bytes = 0;
  // Every blob is read before the tar starts, so the counts are known up front and a read error
  // surfaces here rather than halfway through an upload. tar-stream keeps references, not copies.
  for (const item of plan.items) {
    const base = { name: item.path, mtime, uid: 0, gid: 0, uname: '', gname: '' };
    if (item.kind === 'dir') {
      pack.entry({ ...base, type: 'directory', mode: 0o755 });
    } else if (item.kind === 'symlink') {
      pack.entry({ ...base, type: 'symlink', mode: 0o777, linkname: item.target });
    } else {
      const data = await cache.readBlob(item.oid);
      bytes += data.byteLength;
      pack.entry({ ...base, type: 'file', mode: item.mode, size: data.byteLength }, data);
    }
  }
  pack.finalize();
  // tar-stream's pack is a streamx stream; hand out a genuine node Readable of bytes.
  const stream = Readable.from(pack, { objectMode: false });
  return { tar: stream, files: plan.files, bytes, excluded: plan.excluded, notes };
}

/** Re-roots a listing of `root` (paths from the repository root) onto `root` itself. */
function relativeTo(root: string, entries: readonly TreeEntry[]): TreeEntry[] {
  if (root === '') return [...entries];
  const prefix = `${root}/`;
  return entries
    .filter((e) => e.path.startsWith(prefix))
    .map((e) => ({ ...e, path: e.path.slice(prefix.length) }));
}
