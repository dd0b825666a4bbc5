/**
 * Git branch names, checked by the rules of `git check-ref-format --branch` so a spec can never name
 * a branch that git itself would refuse (and so a name can be put into `refs/heads/<name>` safely).
 */

// Control characters, space and the characters git reserves for revision syntax (~ ^ : ? * [ \).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHAR = /[\u0000-\u0020\u007f~^:?*[\\]/;

/** Why `name` is not a valid git branch name, as a phrase ("must not contain \"..\""), or undefined if it is one. */
export function branchNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  const bad = FORBIDDEN_CHAR.exec(name)?.[0];
  if (bad !== undefined) return `must not contain ${describeChar(bad)}`;
  if (name.startsWith('-')) return 'must not start with "-"';
  if (name === '@' || name === 'HEAD') return `must not be "${name}"`;
  if (name.startsWith('refs/')) return 'must be a branch name, not a full ref (drop "refs/heads/")';
  if (name.includes('..')) return 'must not contain ".."';
  if (name.includes('@{')) return 'must not contain "@{"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) {
    return 'must not start or end with "/" or contain "//"';
  }
  if (name.endsWith('.')) return 'must not end with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'must not have a part starting with "."';
    if (part.endsWith('.lock')) return 'must not have a part ending with ".lock"';
  }
  return undefined;
}

function describeChar(ch: string): string {
  if (ch === ' ') return 'spaces';
  const code = ch.charCodeAt(0);
  if (code < 0x20 || code === 0x7f)
    return `control characters (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return `"${ch}"`;
}
