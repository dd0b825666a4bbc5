import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import type { MetricLookups, Metrics } from './metrics.js';

const BLOCK_MS = 5_000;
const STOP_WAIT_MS = 2_000;

/**
 * Follows the event stream from its tail and feeds every event to `metrics`, on a connection of
 * its own (XREAD BLOCK ties it up). Counters start at zero with the process, as Prometheus
 * expects of counters. Returns a stop function.
 */
export async function followEvents(
  redis: Redis,
  bus: EventBus,
  metrics: Metrics,
  lookups: MetricLookups,
  log: Logger,
): Promise<() => Promise<void>> {
  const conn = redis.duplicate();
  conn.on('error', () => undefined);
  await conn.connect();
  let after = await bus.lastId();
  let live = true;
  const done = (async () => {
    while (live) {
      try {
        const events = await bus.read(after, { blockMs: BLOCK_MS, connection: conn });
        for (const e of events) {
          after = e.id;
          await metrics.observe(e, lookups).catch((err: unknown) => {
            log.debug({ err: String(err) }, 'metrics: event not counted');
          });
        }
      } catch (err) {
        if (!live) break;
        log.warn({ err: String(err) }, 'metrics: reading the event stream failed; retrying');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  })();
  return async () => {
    live = false;
    conn.disconnect();
    // An event being counted may wait on the shared connection for a Redis that is gone (its
    // queue is flushed only when the controller disconnects it, after this): do not wait forever.
    await Promise.race([done, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
  };
}
