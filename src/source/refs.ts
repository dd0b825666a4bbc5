/**
 * Validation of the git names users hand us (branches, commit SHAs). Pure: no git, no I/O.
 * Everything that reaches isomorphic-git or an `execFile` argv passes through here first, so a
 * name can never be read as an option (`-x`) or a revision expression (`a..b`, `@{-1}`).
 */
import { GantryError } from '../errors.js';

const SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

// Rules 3-5, 8 and 10 of git-check-ref-format(1): `..`, control characters, space, `~^:?*[`, `\`, `@{`.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_RE = /\.\.|[\x00-\x20\x7f~^:?*[\\]|@\{/;

/** Why `name` is not a valid branch name under `git check-ref-format --branch`, or null if it is. */
export function branchNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  // `--branch` refuses these before checking `refs/heads/<name>`; a leading dash would read as an option.
  if (name.startsWith('-')) return 'starts with "-"';
  if (name === 'HEAD') return 'is "HEAD"';
  // git accepts a lone "@" outside a repository, but everywhere else it means HEAD: refuse it.
  if (name === '@') return 'is "@"';
  if (FORBIDDEN_RE.test(name))
    return 'contains "..", "@{", whitespace, a control character or one of ~^:?*[\\';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  if (name.endsWith('.')) return 'ends with "."';
  for (const component of name.split('/')) {
    if (component === '') return 'contains "//"';
    if (component.startsWith('.')) return 'has a component starting with "."';
    if (component.endsWith('.lock')) return 'has a component ending with ".lock"';
  }
  return null;
}

/** True when `name` is a valid branch name (`git check-ref-format --branch`). */
export function isValidBranchName(name: string): boolean {
  return branchNameProblem(name) === null;
}

/** Returns `name` if it is a valid branch name; throws GANTRY_ERR_REF_INVALID otherwise. */
export function assertBranchName(name: string): string {
  const problem = branchNameProblem(name);
  if (problem !== null) {
    throw new GantryError(
      'GANTRY_ERR_REF_INVALID',
      `invalid branch name ${JSON.stringify(name)}: ${problem}`,
      {
        details: { branch: name },
      },
    );
  }
  return name;
}

/** True when `s` is a full lowercase commit id (SHA-1: 40 hex, SHA-256: 64 hex). */
export function isSha(s: string): boolean {
  return SHA_RE.test(s);
}

/** Returns `s` if it is a full lowercase commit id; throws GANTRY_ERR_REF_INVALID otherwise. */
export function assertSha(s: string): string {
  if (!isSha(s)) {
    throw new GantryError(
      'GANTRY_ERR_REF_INVALID',
      `invalid commit id ${JSON.stringify(s)}: expected 40 or 64 lowercase hex characters`,
      {
        details: { sha: s },
      },
    );
  }
  return s;
}
