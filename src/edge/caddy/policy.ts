/**
 * The proxy settings that make instance changes invisible to clients, in one place. Measured
 * against Caddy 2.6.2 by test/integration/edge-caddy.test.ts.
 */

/**
 * How long one request may keep looking for an upstream that answers. Covers an instance that
 * died between two health probes, and a route whose only instance is being replaced.
 */
export const TRY_DURATION = '5s';

/** Pause between two tries; a dead instance refuses connections at once, so keep it short. */
export const TRY_INTERVAL = '100ms';

/**
 * Passive health: one failed try (refused connection, reset mid-request) takes the upstream out
 * of the rotation for FAIL_DURATION, so the requests behind it do not each pay a failed try.
 * Short, because Caddy 2.6 keeps the mark per address: a new instance that gets the same port
 * soon after would otherwise be skipped too. 5xx answers do not count: they are the app's answer,
 * which the bake judges; retrying them would hide a bad revision and repeat non-idempotent work.
 */
export const FAIL_DURATION = '3s';
export const MAX_FAILS = 1;

/** An instance that does not accept a connection within this is treated as failed. */
export const DIAL_TIMEOUT = '2s';

/**
 * How long `drain` must see zero requests in flight before it believes it: a request the old
 * config accepted a moment before the switch may not have picked its upstream yet, and a retry
 * waits TRY_INTERVAL between tries.
 */
export const DRAIN_QUIET_MS = 250;

/** How often `drain` polls Caddy's in-flight counts. */
export const DRAIN_POLL_MS = 50;
