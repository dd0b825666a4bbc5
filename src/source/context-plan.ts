/**
 * Decides what goes into a Docker build context, from a git tree alone. Pure: the caller reads the
 * tree, the ignore file and the symlink targets, and later the blobs of the files planned here.
 */
import dockerignore from '@balena/dockerignore';
import { GantryError } from '../errors.js';
import { entryKind, fileMode, type TreeEntry } from './git-tree.js';
import { isSafeEntryName, resolveSymlink } from './repo-path.js';

// The package is CommonJS with `module.exports = factory; factory.default = factory`: under
// NodeNext the default import is `module.exports`, which TypeScript types as the namespace.
const ignore = dockerignore.default;

/** One tar entry to write; paths are relative to the context directory. */
export type ContextItem =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly oid: string; readonly mode: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

/** What to send, plus the counts and notes for the build log. */
export interface ContextPlan {
  /** Sorted by path, so every directory comes before its contents. */
  readonly items: readonly ContextItem[];
  /** Regular files and symlinks sent. */
  readonly files: number;
  /** Files and symlinks left out by the ignore file. */
  readonly excluded: number;
  /** Things skipped that a person may want to know about (submodules, unsafe names). */
  readonly notes: readonly string[];
}

/** The tree of the context directory, with what the caller read for it. */
export interface ContextInput {
  /** Recursive listing, paths relative to the context directory. */
  readonly entries: readonly TreeEntry[];
  /** Target of every symlink among `entries`, by path. */
  readonly symlinkTargets: ReadonlyMap<string, string>;
  /** The Dockerfile, relative to the context directory (normalized). */
  readonly dockerfile: string;
  /** The ignore file in effect (see {@link ignoreFileFor}) and its text, if any. */
  readonly ignoreFile: { readonly path: string; readonly text: string } | null;
}

/**
 * Which ignore file applies: BuildKit's `<Dockerfile>.dockerignore` when present, else the
 * context's `.dockerignore`, else none.
 */
export function ignoreFileFor(dockerfile: string, paths: ReadonlySet<string>): string | null {
  const specific = `${dockerfile}.dockerignore`;
  if (paths.has(specific)) return specific;
  return paths.has('.dockerignore') ? '.dockerignore' : null;
}

/** Plans the build context; throws GANTRY_ERR_PATH_ESCAPE for a sent symlink that leads outside it. */
export function planBuildContext(input: ContextInput): ContextPlan {
  const matcher = ignore().add(input.ignoreFile?.text ?? '');
  // Docker sends the Dockerfile and the ignore file even when ignored: the builder needs both.
  const alwaysSent = new Set([input.dockerfile, input.ignoreFile?.path ?? '.dockerignore']);
  const items: ContextItem[] = [];
  const dirs = new Set<string>();
  const unsafe = new Set<string>();
  const notes: string[] = [];
  let excluded = 0;

  for (const entry of input.entries) {
    const kind = entryKind(entry.mode);
    if (kind === 'tree') continue; // directories are derived from what they hold
    const unsafePrefix = firstUnsafePrefix(entry.path);
    if (unsafePrefix !== null) {
      if (!unsafe.has(unsafePrefix))
        notes.push(`skipped ${JSON.stringify(unsafePrefix)}: unsafe path name`);
      unsafe.add(unsafePrefix);
      continue;
    }
    if (kind === 'submodule') {
      notes.push(
        `skipped submodule ${JSON.stringify(entry.path)} (${entry.oid.slice(0, 12)}): submodules are not part of the build context`,
      );
      continue;
    }
    if (!alwaysSent.has(entry.path) && matcher.ignores(entry.path)) {
      excluded++;
      continue;
    }
    if (kind === 'symlink') {
      items.push({
        kind: 'symlink',
        path: entry.path,
        target: checkedTarget(entry.path, input.symlinkTargets),
      });
    } else {
      items.push({ kind: 'file', path: entry.path, oid: entry.oid, mode: fileMode(kind) });
    }
    addParents(entry.path, dirs);
  }
  const files = items.length;
  for (const dir of dirs) items.push({ kind: 'dir', path: dir });
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { items, files, excluded, notes };
}

function checkedTarget(path: string, links: ReadonlyMap<string, string>): string {
  const target = links.get(path);
  if (target === undefined) throw new Error(`internal: no target read for symlink ${path}`);
  const resolved = resolveSymlink(path, target, links);
  if (!resolved.ok) {
    const why = {
      absolute: 'is absolute',
      outside: 'leads outside the build context',
      loop: 'loops',
    }[resolved.reason];
    throw new GantryError(
      'GANTRY_ERR_PATH_ESCAPE',
      `symlink ${JSON.stringify(path)} -> ${JSON.stringify(target)} ${why}; only links that stay inside the build context are allowed`,
      { details: { path, target, reason: resolved.reason } },
    );
  }
  return target;
}

/** The path up to and including its first unsafe component, or null when every component is safe. */
function firstUnsafePrefix(path: string): string | null {
  const parts = path.split('/');
  const bad = parts.findIndex((p) => !isSafeEntryName(p));
  return bad === -1 ? null : parts.slice(0, bad + 1).join('/');
}

function addParents(path: string, dirs: Set<string>): void {
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1))
    dirs.add(path.slice(0, i));
}
