/**
 * Paths written in a spec (build context, Dockerfile) are relative POSIX paths that must stay inside
 * a root: the repository for the context, the context for the Dockerfile. Resolution is purely
 * lexical, on the path text: symlinks inside the git tree are the builder's concern, not the spec's.
 */
import { resolveSegments } from '../git/repo-path.js';

/** A path resolved inside its root, as segments (empty = the root itself), or why it cannot be. */
export type ResolvedPath = { ok: true; segments: string[] } | { ok: false; problem: string };

// eslint-disable-next-line no-control-regex
const CONTROL_CHAR = /[\u0000-\u001f\u007f]/;

/**
 * Resolves the relative path `rel` against `base` (segments below the root), normalizing `.`, `..`
 * and repeated slashes; `..` may climb within the root but never above it.
 */
export function resolveInside(
  base: readonly string[],
  rel: string,
  rootName: string,
): ResolvedPath {
  if (rel === '') return { ok: false, problem: 'must not be empty' };
  if (CONTROL_CHAR.test(rel)) return { ok: false, problem: 'must not contain control characters' };
  // A backslash is a separator on Windows and a file-name character on Linux: refuse the ambiguity.
  if (rel.includes('\\')) return { ok: false, problem: 'must use "/" as separator, not "\\"' };
  if (rel.startsWith('/'))
    return { ok: false, problem: `must be a relative path inside the ${rootName}` };
  const segments = resolveSegments(base, rel);
  if (segments === undefined) {
    return { ok: false, problem: `must stay inside the ${rootName} ("${rel}" climbs out of it)` };
  }
  return { ok: true, segments };
}

/** Segments as a path string, `.` for the root. */
export function joinSegments(segments: readonly string[]): string {
  return segments.length === 0 ? '.' : segments.join('/');
}

/** The path from directory `from` to `to` (both segments below the root), e.g. `../shared`; `.` if equal. */
export function relativeSegments(from: readonly string[], to: readonly string[]): string {
  let common = 0;
  while (common < from.length && common < to.length && from[common] === to[common]) common++;
  const up = Array.from({ length: from.length - common }, () => '..');
  return joinSegments([...up, ...to.slice(common)]);
}

/**
 * The directory segments of a repository-relative file path (`services/api/gantry.yaml` → `[services,
 * api]`); a path that is not repository-relative counts as the root, since the caller, not the
 * spec, chose it.
 */
export function dirSegments(file: string): string[] {
  const dir = file.split('/').slice(0, -1).join('/');
  const resolved = dir === '' ? undefined : resolveInside([], dir, 'repository');
  return resolved?.ok ? resolved.segments : [];
}
