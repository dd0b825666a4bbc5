import type { Redis } from 'ioredis';
import type { EventBus, StoredEvent } from './bus.js';

/** One reader of the live feed (an SSE stream): told of every batch, and ticked after each read. */
export interface FeedSubscriber {
  deliver(events: readonly StoredEvent[]): void;
  /** Called after every read, events or not (at least once per `blockMs`): time for heartbeats. */
  tick(now: number): void;
  /** The feed cannot go on (Redis failed): end the stream; the client resumes from its last id. */
  end(reason: string): void;
}

export interface LiveFeedOptions {
  /** CLIENT SETNAME of the one blocking connection, so an operator can see what holds it. */
  connectionName: string;
  /** How long one XREAD blocks; subscribers are ticked at least this often. */
  blockMs: number;
  onError?: (err: unknown) => void;
}

/** Whether stream id `a` comes after `b` (ids are `<ms>-<seq>`, compared as numbers). */
export function isAfter(a: string, b: string): boolean {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am > bm || (am === bm && as > bs);
}

/**
 * The event stream, read once per controller and fanned out to every subscriber. A blocking
 * XREAD ties up its connection, so a connection per SSE client would let viewers exhaust Redis's
 * client limit; here there is one while anyone listens, and none otherwise. A reader starts
 * where its first subscriber starts; a later subscriber resuming from an older id catches up on
 * its own (non-blocking reads, after subscribing, so they reach at least as far as the reader
 * had) and skips what it has already seen.
 */
export class LiveFeed {
  private readonly subscribers = new Set<FeedSubscriber>();
  /** The running reader's stop switch; undefined while nobody listens. */
  private reader: { stop(): void } | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly redis: Redis,
    private readonly opts: LiveFeedOptions,
  ) {}

  /** How many subscribers are listening. */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Adds a subscriber that has seen the stream up to id `from`; the first one starts the reader
   * there (so nothing after `from` can fall between the two). Returns the unsubscribe.
   */
  subscribe(sub: FeedSubscriber, from: string): () => void {
    this.subscribers.add(sub);
    if (!this.reader) this.reader = this.start(from);
    return () => {
      this.subscribers.delete(sub);
      // The last one out gives the connection back; disconnecting aborts the blocked read.
      if (this.subscribers.size === 0) this.stopReader();
    };
  }

  /** Ends every subscriber and the reader (the server is closing). */
  close(): void {
    for (const sub of [...this.subscribers]) sub.end('the controller is shutting down');
    this.subscribers.clear();
    this.stopReader();
  }

  private stopReader(): void {
    this.reader?.stop();
    this.reader = undefined;
  }

  private start(from: string): { stop(): void } {
    const conn = this.redis.duplicate({
      connectionName: this.opts.connectionName,
      lazyConnect: true,
    });
    conn.on('error', () => undefined); // failures surface on the read, which ends the loop
    let live = true;
    const handle = {
      stop: () => {
        live = false;
        conn.disconnect();
      },
    };
    void this.loop(conn, from, () => live).catch((err: unknown) => {
      if (!live) return; // stopped on purpose: the aborted read is expected
      this.opts.onError?.(err);
      // This reader is finished: subscribers end and reconnect, which starts a fresh one.
      if (this.reader === handle) this.reader = undefined;
      conn.disconnect();
      for (const sub of [...this.subscribers]) sub.end('the event stream failed');
      this.subscribers.clear();
    });
    return handle;
  }

  private async loop(conn: Redis, from: string, live: () => boolean): Promise<void> {
    await conn.connect();
    let after = from;
    while (live()) {
      const events = await this.bus.read(after, {
        blockMs: this.opts.blockMs,
        connection: conn,
        count: 500,
      });
      if (!live()) return;
      const last = events.at(-1);
      if (last) after = last.id;
      const now = Date.now();
      for (const sub of [...this.subscribers]) {
        if (events.length > 0) sub.deliver(events);
        sub.tick(now);
      }
    }
  }
}
