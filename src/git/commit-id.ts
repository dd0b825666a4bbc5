/**
 * Commit ids as users and forges hand them to us. Pure: no git, no I/O. A full id is the only
 * revision Gantry passes on, so nothing else (`HEAD~1`, an abbreviated id) can reach git.
 */
import { GantryError } from '../errors.js';

const SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

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
      { details: { sha: s } },
    );
  }
  return s;
}
