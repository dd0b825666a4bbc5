/**
 * How much a push can make the controller hold: the pack one fetch downloads, how long it may
 * take, any one file read into memory, and a build context. A push past a cap fails its own build
 * or sync with GANTRY_ERR_SOURCE_LIMIT (stalled: a retry would download the same bytes again).
 */
import { GantryError } from '../errors.js';

export interface SourceLimits {
  /** Bytes one fetch (or ref listing) may receive; isomorphic-git holds the whole pack in memory. */
  readonly maxPackBytes: number;
  /** The whole fetch, however steadily the bytes trickle in. */
  readonly fetchTimeoutMs: number;
  /** A connection that sends nothing this long is given up. */
  readonly idleTimeoutMs: number;
  /** Any one file read into memory (a build-context file, a symlink target, an ignore file). */
  readonly maxBlobBytes: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxPackBytes: 1024 ** 3,
  fetchTimeoutMs: 10 * 60_000,
  idleTimeoutMs: 60_000,
  maxBlobBytes: 100 * 1024 ** 2,
};

/** The config key a person raises to allow more, named in every limit error. */
export type LimitKey =
  | 'source.maxPackSize'
  | 'source.fetchTimeout'
  | 'source.maxBlobSize'
  | 'build.maxContextSize'
  | 'gantry.yaml size';

/** `what` is `size` bytes (`atLeast`: cut off there, so more) where `limit` are allowed. */
export function tooLarge(
  what: string,
  size: number,
  limit: number,
  key: LimitKey,
  atLeast = false,
): GantryError {
  const fix =
    key === 'gantry.yaml size' ? '' : `; raise ${key} in the controller config to allow it`;
  return new GantryError(
    'GANTRY_ERR_SOURCE_LIMIT',
    `${what} is ${atLeast ? 'more than ' : ''}${formatBytes(size)}, over the limit of ${formatBytes(limit)}${fix}`,
    { details: { size, limit, key } },
  );
}

/** A fetch from `url` ran past its total time. */
export function fetchTooSlow(url: string, limitMs: number, received: number): GantryError {
  return new GantryError(
    'GANTRY_ERR_SOURCE_LIMIT',
    `fetching from ${url} took longer than ${Math.round(limitMs / 1000)}s (${formatBytes(received)} received) and was stopped; raise source.fetchTimeout in the controller config to allow it`,
    { details: { limitMs, received, key: 'source.fetchTimeout' } },
  );
}

/** `1.5 MiB`, `300 MiB`, `12 B`: sizes as people read them. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = u === 0 || v >= 100 ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[u]}`;
}
