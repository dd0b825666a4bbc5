import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';

/** How many events the stream keeps (approximately: trimming is lazy, as Redis does it best). */
const STREAM_KEPT = 10_000;

/**
 * One event of the controller's single stream. History reporters, SSE, CLI progress and metrics
 * all read this one stream rather than each polling on its own (DESIGN.md).
 */
export type GantryEvent =
  | {
      /** A line of a rollout's progress; `kind` is the runner's: created, resumed, phase-changed, instance-health, failed, finished, outcome… */
      type: 'rollout';
      at: number;
      rolloutId: string;
      app: string;
      env: string;
      kind: string;
      text: string;
      /** The core's typed event, when the line came from one (src/rollout/events.ts). */
      data?: unknown;
    }
  | {
      /**
       * An environment's standing changed outside a rollout: locked, unlocked, pinned, unpinned,
       * and the reconciler's self-heal, drift, orphaned and prune events.
       */
      type: 'env';
      at: number;
      app: string;
      env: string;
      kind: string;
      text: string;
      /** The reconciler's typed event, for self-heal and drift (src/reconcile/events.ts). */
      data?: unknown;
    }
  | {
      /** A build changed status. */
      type: 'build';
      at: number;
      buildId: string;
      app: string;
      sha: string;
      status: string;
      text: string;
    };

/** An event as read back, with the stream id that orders it (usable as SSE's Last-Event-ID). */
export type StoredEvent = GantryEvent & { id: string };

/** Appends events to one Redis stream and reads them back in order. */
export class EventBus {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  get key(): string {
    return this.keys.events();
  }

  /** Adds the XADD of `events` to a MULTI, so they are written together with what they describe. */
  addTo(multi: ReturnType<Redis['multi']>, events: readonly GantryEvent[]): void {
    for (const e of events) {
      multi.xadd(this.key, 'MAXLEN', '~', String(STREAM_KEPT), '*', 'e', JSON.stringify(e));
    }
  }

  async publish(...events: GantryEvent[]): Promise<void> {
    if (events.length === 0) return;
    const multi = this.redis.multi();
    this.addTo(multi, events);
    await multi.exec();
  }

  /** The id of the newest event, or `0-0` when there is none: read after it to see only new ones. */
  async lastId(): Promise<string> {
    const [entry] = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1);
    return entry?.[0] ?? '0-0';
  }

  /**
   * Events after `afterId`, waiting up to `blockMs` for one to arrive. Blocking ties up the
   * connection, so pass a connection of the reader's own (`redis.duplicate()`) when blocking.
   */
  async read(
    afterId: string,
    opts: { blockMs?: number; count?: number; connection?: Redis } = {},
  ): Promise<StoredEvent[]> {
    const conn = opts.connection ?? this.redis;
    const count = String(opts.count ?? 500);
    const res =
      opts.blockMs === undefined
        ? await conn.xread('COUNT', count, 'STREAMS', this.key, afterId)
        : await conn.xread('COUNT', count, 'BLOCK', opts.blockMs, 'STREAMS', this.key, afterId);
    const entries = res?.[0]?.[1] ?? [];
    return entries.map(([id, fields]) => ({ id, ...parse(fields) }));
  }
}

function parse(fields: string[]): GantryEvent {
  const i = fields.indexOf('e');
  return JSON.parse(fields[i + 1] ?? '{}') as GantryEvent;
}
