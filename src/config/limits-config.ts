/**
 * The controller config's retry and size settings as the layers that use them take them: the
 * queue's retry policy, the source caps, the build-context cap. The schema has checked the
 * patterns, so a value that does not parse is a bug, answered with the default.
 */
import { DEFAULT_RETRY, type RetryPolicy } from '../queue/retry.js';
import { DEFAULT_SOURCE_LIMITS, type SourceLimits } from '../source/source-limits.js';
import type { ControllerConfig } from './controller-config.js';
import { parseDuration, parseMemory } from './units.js';

/** `build.retry` (with `build.attempts`, which `retry.attempts` overrides). */
export function retryPolicyOf(build: ControllerConfig['build']): RetryPolicy {
  return {
    attempts: build.retry.attempts ?? build.attempts,
    baseDelayMs: parseDuration(build.retry.baseDelay) ?? DEFAULT_RETRY.baseDelayMs,
    maxDelayMs: parseDuration(build.retry.maxDelay) ?? DEFAULT_RETRY.maxDelayMs,
  };
}

/** `source.*`: what one fetch may download and one read may hold. */
export function sourceLimitsOf(source: ControllerConfig['source']): SourceLimits {
  const d = DEFAULT_SOURCE_LIMITS;
  return {
    maxPackBytes: parseMemory(source.maxPackSize) ?? d.maxPackBytes,
    fetchTimeoutMs: parseDuration(source.fetchTimeout) ?? d.fetchTimeoutMs,
    idleTimeoutMs: parseDuration(source.idleTimeout) ?? d.idleTimeoutMs,
    maxBlobBytes: parseMemory(source.maxBlobSize) ?? d.maxBlobBytes,
  };
}

/** `build.maxContextSize` in bytes. */
export function maxContextBytesOf(build: ControllerConfig['build']): number {
  return parseMemory(build.maxContextSize) ?? 2 * 1024 ** 3;
}
