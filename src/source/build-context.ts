/**
 * The Docker build context of a commit, made from its git tree and nothing else: no worktree is
 * read, so untracked, ignored or stale files on disk can never end up in an image.
 */
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { assertSha } from '../git/commit-id.js';
import { planBuildContext, ignoreFileFor, type ContextItem } from './context-plan.js';
import type { TreeEntry } from './git-tree.js';
import type { RepoCache } from './repo-cache.js';
import { joinRepoPath, normalizeRepoPath } from './repo-path.js';
import { formatBytes, tooLarge } from './source-limits.js';

/** A build context ready to send to the engine, with what the build log should say about it. */
export interface BuildContext {
  /**
   * An uncompressed tar stream; consume it once. Blobs are read one at a time as the consumer
   * pulls, so the controller holds about one file of the context at once, not all of them.
   */
  readonly tar: Readable;
  /** Files and symlinks in the context. */
  readonly files: number;
  /** Total size of the files' contents. */
  readonly bytes: number;
  /** Files and symlinks left out by the ignore file. */
  readonly excluded: number;
  /** Submodules and unsafe names skipped, and the like. */
  readonly notes: readonly string[];
  /**
   * Why the tar stream broke off (a blob that could not be read), once it did: an engine that
   * sees the upload end early reports something vaguer, so the caller reports this instead.
   */
  failure(): Error | undefined;
}

export interface BuildContextOptions {
  /** Relative to the context (default `Dockerfile`). */
  readonly dockerfile?: string | undefined;
  /** The total size of the files sent (default DEFAULT_MAX_CONTEXT_BYTES). */
  readonly maxBytes?: number | undefined;
}

/** The default cap on a build context's total size: 2 GiB. */
export const DEFAULT_MAX_CONTEXT_BYTES = 2 * 1024 ** 3;

/**
 * Builds the context tar of directory `contextDir` at commit `sha` (which must be in the cache),
 * honouring its `.dockerignore` like Docker does. `dockerfile` is relative to the context
 * (default `Dockerfile`). Throws GANTRY_ERR_PATH_ESCAPE for a symlink that leads outside the
 * context, GANTRY_ERR_GIT_NOT_FOUND when the directory does not exist at that commit, and
 * GANTRY_ERR_SOURCE_LIMIT when a file is over the blob cap or all of them over `maxBytes` —
 * decided from the objects' headers, before any content is read.
 */
export async function buildContextTar(
  cache: RepoCache,
  sha: string,
  contextDir: string,
  opts: BuildContextOptions = {},
): Promise<BuildContext> {
  assertSha(sha);
  const root = normalizeRepoPath(contextDir, 'build context');
  const dockerfile = normalizeRepoPath(opts.dockerfile ?? 'Dockerfile', 'dockerfile');
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_CONTEXT_BYTES;
  const entries = relativeTo(root, await cache.listTree(sha, root));
  const byPath = new Map(entries.map((e) => [e.path, e]));

  const ignorePath = ignoreFileFor(dockerfile, new Set(byPath.keys()));
  const ignoreEntry = ignorePath === null ? undefined : byPath.get(ignorePath);
  const ignoreFile =
    ignorePath === null || ignoreEntry === undefined
      ? null
      : {
          path: ignorePath,
          text: (await cache.readBlob(ignoreEntry.oid, ignorePath)).toString('utf8'),
        };
  const symlinkTargets = new Map<string, string>();
  for (const e of entries) {
    if (e.mode === '120000')
      symlinkTargets.set(e.path, (await cache.readBlob(e.oid, e.path)).toString('utf8'));
  }

  const plan = planBuildContext({ entries, symlinkTargets, dockerfile, ignoreFile });
  const notes = [...plan.notes];
  if (!byPath.has(dockerfile))
    notes.push(`no ${dockerfile} in the build context at ${sha.slice(0, 12)}`);

  // Every size first, from the objects' headers: a context over a cap fails before a byte of it
  // is read or sent, with the files that make it large named.
  const sizes = new Map<string, number>();
  let bytes = 0;
  for (const item of plan.items) {
    if (item.kind !== 'file') continue;
    const size = await cache.blobSize(item.oid);
    if (size > cache.limits.maxBlobBytes) {
      throw tooLarge(
        `${joinRepoPath(root, item.path)} (in the build context)`,
        size,
        cache.limits.maxBlobBytes,
        'source.maxBlobSize',
      );
    }
    sizes.set(item.oid, size);
    bytes += size;
  }
  if (bytes > maxBytes) {
    const largest = plan.items
      .flatMap((i) => (i.kind === 'file' ? [{ path: i.path, size: sizes.get(i.oid) ?? 0 }] : []))
      .sort((a, b) => b.size - a.size)
      .slice(0, 3)
      .map((f) => `${f.path} ${formatBytes(f.size)}`)
      .join(', ');
    throw tooLarge(
      `the build context ${root === '' ? '.' : root} (largest: ${largest})`,
      bytes,
      maxBytes,
      'build.maxContextSize',
    );
  }

  // A fixed mtime (the commit's) makes the same commit always give the same tar.
  const mtime = new Date((await cache.commitInfo(sha)).committer.timestamp * 1000);
  const pack = tar.pack();
  let failure: Error | undefined;
  void writeEntries(cache, pack, plan.items, mtime).catch((e: unknown) => {
    failure = e instanceof Error ? e : new Error(String(e));
    pack.destroy(failure);
  });
  // tar-stream's pack is a streamx stream; hand out a genuine node Readable of bytes.
  const stream = Readable.from(pack, { objectMode: false });
  return {
    tar: stream,
    files: plan.files,
    bytes,
    excluded: plan.excluded,
    notes,
    failure: () => failure,
  };
}

/**
 * Writes the planned entries into `pack`, reading each blob only when the one before it has been
 * taken by the consumer: tar-stream calls an entry's callback once its bytes are pushed past the
 * stream's buffer, so at most about one file is in memory at a time.
 */
async function writeEntries(
  cache: RepoCache,
  pack: tar.Pack,
  items: readonly ContextItem[],
  mtime: Date,
): Promise<void> {
  try {
    for (const item of items) {
      const base = { name: item.path, mtime, uid: 0, gid: 0, uname: '', gname: '' };
      if (item.kind === 'dir') {
        pack.entry({ ...base, type: 'directory', mode: 0o755 });
      } else if (item.kind === 'symlink') {
        pack.entry({ ...base, type: 'symlink', mode: 0o777, linkname: item.target });
      } else {
        const data = await cache.readBlob(item.oid, item.path);
        await new Promise<void>((resolve, reject) =>
          pack.entry(
            { ...base, type: 'file', mode: item.mode, size: data.byteLength },
            data,
            (e) => (e ? reject(e) : resolve()),
          ),
        );
      }
    }
    pack.finalize();
  } finally {
    // The packs read for this context need not stay in memory once it is sent.
    cache.forgetPacks();
  }
}

/** Re-roots a listing of `root` (paths from the repository root) onto `root` itself. */
function relativeTo(root: string, entries: readonly TreeEntry[]): TreeEntry[] {
  if (root === '') return [...entries];
  const prefix = `${root}/`;
  return entries
    .filter((e) => e.path.startsWith(prefix))
    .map((e) => ({ ...e, path: e.path.slice(prefix.length) }));
}
