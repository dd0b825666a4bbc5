/**
 * How transient failures are retried: exponential backoff from `baseDelayMs`, doubling up to
 * `maxDelayMs`, for `attempts` attempts in all. Pure; BullMQ calls {@link retryDelay} through the
 * workers' `backoffStrategy`, and the build record shows the same numbers (attempt n of m, next
 * try at T), so what people read is what the queue does.
 */
import { isGantryError } from '../errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included (1: never retried). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Defaults: 8 attempts, 5 s doubling to 2 min: retries at +5 s, +10 s, +20 s, +40 s, +80 s, then
 * every 2 min, about 6.5 minutes in all — a registry or engine restart, a forge's bad minute.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 5_000, maxDelayMs: 120_000 };

/** The backoff type jobs carry; the workers' strategy answers for it. */
export const BACKOFF_TYPE = 'gantry-capped-exponential';

/** The wait before attempt `failed + 1`, after `failed` attempts failed (1, 2, …). */
export function retryDelay(policy: RetryPolicy, failed: number): number {
  const exp = policy.baseDelayMs * 2 ** Math.max(0, failed - 1);
  return Math.min(policy.maxDelayMs, Math.round(exp));
}

/** The whole time the retries may span: the sum of every wait. */
export function retrySpan(policy: RetryPolicy): number {
  let total = 0;
  for (let n = 1; n < policy.attempts; n++) total += retryDelay(policy, n);
  return total;
}

/** Whether the queue should try again after this error, given the attempt (1-based) it ended. */
export function shouldRetry(e: unknown, attempt: number, maxAttempts: number): boolean {
  return isTransient(e) && attempt < maxAttempts;
}

/** Errors of no known kind are transient: a crash of the unexpected should not be final. */
export function isTransient(e: unknown): boolean {
  return !isGantryError(e) || e.disposition === 'transient';
}
