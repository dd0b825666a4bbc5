/**
 * Paths inside a git tree, as pure functions. A repository is untrusted input: its tree may name
 * `..`, `.git` or absolute symlink targets, and none of that may lead outside the directory a
 * reader asked for.
 */
import { GantryError } from '../errors.js';
import { pathSegments } from '../git/repo-path.js';

/**
 * Normalizes a repository-relative path ("./a//b/" → "a/b", "." → ""); throws GANTRY_ERR_PATH_ESCAPE
 * for absolute paths, `..` components and NUL bytes.
 */
export function normalizeRepoPath(input: string, what = 'path'): string {
  if (input.includes('\0')) {
    throw pathEscape(`${what} ${JSON.stringify(input)} contains a NUL byte`, input);
  }
  if (input.startsWith('/')) {
    throw pathEscape(
      `${what} ${JSON.stringify(input)} is absolute; it must be relative to the repository root`,
      input,
    );
  }
  const parts = pathSegments(input);
  // `a/../b` would stay inside, but refusing every `..` keeps the rule obvious and the check trivial.
  if (parts.includes('..')) {
    throw pathEscape(`${what} ${JSON.stringify(input)} contains ".."`, input);
  }
  return parts.join('/');
}

/** Joins normalized repository paths, where "" is the root. */
export function joinRepoPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/**
 * True when a tree entry name is safe to materialize: not empty, `.`, `..` or `.git` (any case, as
 * git's own verify_path refuses), and without `/`, `\` or NUL.
 */
export function isSafeEntryName(name: string): boolean {
  if (name === '' || name === '.' || name === '..') return false;
  if (name.toLowerCase() === '.git') return false;
  return !/[/\\\0]/.test(name);
}

/** Where a symlink ends up, resolved inside a directory; see {@link resolveSymlink}. */
export type SymlinkResolution =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: 'absolute' | 'outside' | 'loop' };

const MAX_HOPS = 40; // Linux's MAXSYMLINKS: past this the kernel says ELOOP too.

/**
 * Resolves the symlink at `linkPath` (relative to a root, e.g. the build context) whose target is
 * `target`, following any other symlinks of `links` (path → target, same root) met on the way.
 * Resolving through the links matters: with `up -> .`, the target `up/..` is lexically `.` but
 * physically the root's parent.
 */
export function resolveSymlink(
  linkPath: string,
  target: string,
  links: ReadonlyMap<string, string>,
): SymlinkResolution {
  const stack = linkPath.split('/').slice(0, -1);
  let queue = pathSegments(target);
  let hops = 0;
  if (target.startsWith('/')) return { ok: false, reason: 'absolute' };
  while (queue.length > 0) {
    const [part, ...rest] = queue;
    queue = rest;
    if (part === undefined) continue;
    if (part === '..') {
      if (stack.length === 0) return { ok: false, reason: 'outside' };
      stack.pop();
      continue;
    }
    stack.push(part);
    const next = links.get(stack.join('/'));
    if (next === undefined) continue;
    if (++hops > MAX_HOPS) return { ok: false, reason: 'loop' };
    if (next.startsWith('/')) return { ok: false, reason: 'absolute' };
    // The link is replaced by its target, read relative to the link's own directory.
    stack.pop();
    queue = [...pathSegments(next), ...queue];
  }
  return { ok: true, path: stack.join('/') };
}

function pathEscape(message: string, path: string): GantryError {
  return new GantryError('GANTRY_ERR_PATH_ESCAPE', message, { details: { path } });
}
