/**
 * Paths inside a repository as pure text: `/`-separated, relative, resolved lexically. This is the
 * shared core only; what a caller refuses (every `..`, backslashes, absolute paths) and how it says
 * so is its own policy, since a spec's paths and a git tree's paths answer to different readers.
 */

/** The segments of a relative path without empty and `.` ones ("./a//b/" → [a, b]); `..` is kept. */
export function pathSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * Resolves the relative path `rel` from `base` (segments below a root) lexically, or undefined when
 * a `..` climbs above the root — even if a later segment would come back in.
 */
export function resolveSegments(base: readonly string[], rel: string): string[] | undefined {
  const segments = [...base];
  for (const segment of pathSegments(rel)) {
    if (segment !== '..') segments.push(segment);
    else if (segments.pop() === undefined) return undefined;
  }
  return segments;
}
