/**
 * Git branch names, checked by the rules of `git check-ref-format --branch`. Pure: no git, no I/O.
 * Everything that names a branch — a spec, a webhook payload, a git argv — is checked here, so a
 * name git would refuse never gets further, and a name can never be read as an option (`-x`) or a
 * revision expression (`a..b`, `@{-1}`).
 */
import { GantryError } from '../errors.js';

// Rules 4, 5 and 10 of git-check-ref-format(1): control characters, space and the characters git
// reserves for revision syntax (~ ^ : ? * [ \).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHAR = /[\u0000-\u0020\u007f~^:?*[\\]/;

/**
 * Why `name` is not a valid branch name under `git check-ref-format --branch`, as a predicate
 * ("must not contain \"..\""), or undefined if it is one.
 */
export function branchNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  const bad = FORBIDDEN_CHAR.exec(name)?.[0];
  if (bad !== undefined) return `must not contain ${describeChar(bad)}`;
  // `--branch` refuses these before checking `refs/heads/<name>`; a leading dash would read as an option.
  if (name.startsWith('-')) return 'must not start with "-"';
  // git accepts a lone "@" outside a repository, but everywhere else it means HEAD: refuse it.
  if (name === '@' || name === 'HEAD') return `must not be "${name}"`;
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

/**
 * Like {@link branchNameProblem}, for a branch a person writes down (in a spec): git would take
 * `refs/heads/main` as the branch `refs/heads/refs/heads/main`, which is never what was meant.
 */
export function shortBranchNameProblem(name: string): string | undefined {
  const problem = branchNameProblem(name);
  if (problem !== undefined) return problem;
  if (name.startsWith('refs/')) return 'must be a branch name, not a full ref (drop "refs/heads/")';
  return undefined;
}

/** True when `name` is a valid branch name (`git check-ref-format --branch`). */
export function isValidBranchName(name: string): boolean {
  return branchNameProblem(name) === undefined;
}

/** Returns `name` if it is a valid branch name; throws GANTRY_ERR_REF_INVALID otherwise. */
export function assertBranchName(name: string): string {
  const problem = branchNameProblem(name);
  if (problem !== undefined) {
    throw new GantryError(
      'GANTRY_ERR_REF_INVALID',
      `invalid branch name ${JSON.stringify(name)}: ${problem}`,
      { details: { branch: name } },
    );
  }
  return name;
}

function describeChar(ch: string): string {
  if (ch === ' ') return 'spaces';
  const code = ch.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) {
    return `control characters (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  }
  return `"${ch}"`;
}
