/**
 * What the source layer's git failures become in Gantry's error catalogue. Messages name the
 * remote by its credential-free URL only.
 */
import { GantryError, isGantryError } from '../errors.js';

/** The shape of isomorphic-git's errors: a stable `code` and a `data` bag. */
export interface IsoGitError {
  code: string;
  data?: Record<string, unknown>;
}

/** True when `e` is an isomorphic-git error with this code (e.g. `NotFoundError`, `HttpError`). */
export function isIsoGitError(e: unknown, code: string): e is IsoGitError {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

/**
 * A failed conversation with the remote (HTTP status, refused connection, broken pack): transient,
 * retried with backoff. `secret` is scrubbed from the message should a server ever echo it.
 */
export function remoteFailure(what: string, url: string, e: unknown, secret?: string): GantryError {
  if (isGantryError(e)) return e;
  const status = isIsoGitError(e, 'HttpError') ? Number(e.data?.['statusCode']) : undefined;
  let reason = e instanceof Error ? e.message : String(e);
  if (secret !== undefined && secret !== '') reason = reason.split(secret).join('***');
  return new GantryError('GANTRY_ERR_GIT_FETCH', `${what} failed: ${reason}`, {
    cause: e,
    details: { url, ...(status === undefined ? {} : { status }) },
  });
}

/** The remote has no such branch (or no refs at all). */
export function branchNotFound(url: string, branch: string): GantryError {
  return new GantryError(
    'GANTRY_ERR_GIT_NOT_FOUND',
    `branch ${JSON.stringify(branch)} does not exist in ${url}`,
    { details: { url, branch } },
  );
}

/** A read asked for a commit the cache does not hold. */
export function commitNotCached(url: string, sha: string): GantryError {
  return new GantryError(
    'GANTRY_ERR_GIT_NOT_FOUND',
    `commit ${sha} is not in the cache of ${url}; ensureCommit() it first`,
    { details: { url, sha } },
  );
}
