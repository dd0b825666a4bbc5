import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { GantryError } from '../errors.js';
import type { EventBus, StoredEvent } from '../events/bus.js';
import { isAfter, LiveFeed, type FeedSubscriber } from '../events/live-feed.js';
import type { Store } from '../store/store.js';
import { seesApp, seesEnv, type Principal } from './access.js';
import { requireRole, type TokenSource } from './auth.js';
import { openSse } from './sse.js';
import { nameSchema } from './schemas.js';

export interface EventRoutesDeps {
  redis: Redis;
  store: Store;
  tokens: TokenSource;
  /** Comment lines on an idle stream, so proxies and clients keep it open. */
  sseHeartbeatMs: number;
  /** Concurrent streams this controller serves, in total and per token (429 beyond). */
  streamLimits: { max: number; perToken: number };
}

/** A client this far behind (bytes queued on its socket) is dropped; it resumes by its last id. */
const SLOW_CLIENT_BYTES = 1 << 20;

const STREAM_ID = /^[0-9]{1,20}-[0-9]{1,20}$/;

interface Filter {
  app?: string | undefined;
  rollout?: string | undefined;
  /** The token's scope: events of other apps and environments never reach it. */
  who?: Principal | undefined;
}

/** Whether an event passes the connection's filters. */
export function matchesFilter(e: StoredEvent, f: Filter): boolean {
  if (f.who && !seesApp(f.who, e.app)) return false;
  // Builds belong to an app, not an environment.
  if (f.who && e.type !== 'build' && !seesEnv(f.who, e.env)) return false;
  if (f.app && e.app !== f.app) return false;
  if (f.rollout && (e.type !== 'rollout' || e.rolloutId !== f.rollout)) return false;
  return true;
}

/** One event in Server-Sent Events framing; the stream id lets a client resume after it. */
export function sseFrame(e: StoredEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * `GET /api/events`: the controller's event stream as Server-Sent Events. One Redis reader per
 * controller (LiveFeed) feeds every connection, so viewers cannot exhaust Redis's client limit;
 * the number of streams is capped per token and in total. Tokens travel in the Authorization
 * header: the UI reads the stream with fetch, so no token ever sits in a URL or a log.
 */
export async function eventRoutes(app: FastifyInstance, deps: EventRoutesDeps): Promise<void> {
  const bus = deps.store.bus;
  const feed = new LiveFeed(bus, deps.redis, {
    // Named, so an operator (and a test) can see in CLIENT LIST what holds the connection.
    connectionName: `${deps.store.keys.prefix}:sse`,
    blockMs: deps.sseHeartbeatMs,
    onError: (err) => app.log.warn({ err: String(err) }, 'event streams ended on a Redis error'),
  });
  const streams = new StreamCounts(deps.streamLimits);
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => feed.close());
  app.addHook('onRequest', requireRole(deps.tokens, 'viewer'));

  app.get<{ Querystring: { app?: string; rollout?: string; after?: string } }>(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Live events (Server-Sent Events): rollout progress, builds, environment changes',
        description:
          'Frames are `id: <stream id>`, `event: rollout|env|build`, `data: <JSON>`. Resume with the `Last-Event-ID` header or `?after=<id>`; without either the stream starts with the next event. A comment line is sent when the stream is idle. Concurrent streams are capped per token and per controller (429 `GANTRY_ERR_TOO_MANY_STREAMS`).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            app: nameSchema,
            rollout: { type: 'string', pattern: '^r-[a-z0-9]+-[a-z0-9]+$' },
            after: { type: 'string', pattern: STREAM_ID.source },
          },
        },
        response: {
          200: { description: 'text/event-stream', type: 'string' },
        },
      },
    },
    async (req, reply) => {
      const header = req.headers['last-event-id'];
      const resume = typeof header === 'string' && header !== '' ? header : req.query.after;
      if (resume !== undefined && !STREAM_ID.test(resume)) {
        throw new GantryError(
          'GANTRY_ERR_BAD_REQUEST',
          `Last-Event-ID ${resume} is not an event id`,
        );
      }
      // Counted before any await, so concurrent opens cannot all squeeze under the cap.
      const release = streams.open(req.principal?.name ?? '');
      let start: string;
      try {
        // Read before "connected" is sent: a client may act on that and expect to see the result.
        start = resume ?? (await bus.lastId());
      } catch (e) {
        release();
        throw e;
      }
      const res = reply.raw;
      const filter = { app: req.query.app, rollout: req.query.rollout, who: req.principal };
      const stream = new SseStream(res, filter, deps);
      // Subscribed before the catch-up read, so nothing published in between is missed: what
      // the feed delivers meanwhile is held, then filtered by the cursor.
      const unsubscribe = feed.subscribe(stream, start);
      const done = () => {
        unsubscribe();
        release();
      };

      openSse(reply);
      res.on('close', () => {
        stream.end();
        done();
      });
      try {
        await stream.catchUp(bus, start);
      } catch (e) {
        req.log.warn({ err: String(e) }, 'event stream ended on a Redis error');
        stream.end();
      }
    },
  );
}

/** Streams open per token and in total; `open` throws the 429 when a cap is reached. */
class StreamCounts {
  private total = 0;
  private readonly byToken = new Map<string, number>();

  constructor(private readonly limits: { max: number; perToken: number }) {}

  /** Counts one stream of `token`; returns its release (idempotent). */
  open(token: string): () => void {
    const mine = this.byToken.get(token) ?? 0;
    if (this.total >= this.limits.max) {
      throw new GantryError(
        'GANTRY_ERR_TOO_MANY_STREAMS',
        `this controller already serves ${this.limits.max} event streams; retry later`,
      );
    }
    if (mine >= this.limits.perToken) {
      throw new GantryError(
        'GANTRY_ERR_TOO_MANY_STREAMS',
        `token ${token} already has ${this.limits.perToken} event streams open; close one first`,
      );
    }
    this.total++;
    this.byToken.set(token, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byToken.get(token) ?? 1) - 1;
      if (left > 0) this.byToken.set(token, left);
      else this.byToken.delete(token);
    };
  }
}

/** One client's stream: its filter, its cursor, and its socket. */
class SseStream implements FeedSubscriber {
  /** The newest event id this client has been given (or skipped); later ones only go out. */
  private cursor = '0-0';
  /** Batches the feed delivered while the catch-up read ran; undefined once caught up. */
  private held: StoredEvent[][] | undefined = [];
  private lastWrite = Date.now();
  private open = true;

  constructor(
    private readonly res: ServerResponse,
    private readonly filter: Filter,
    private readonly opts: { sseHeartbeatMs: number },
  ) {}

  /** Sends what happened after stream id `start`, then whatever the feed held meanwhile. */
  async catchUp(bus: EventBus, start: string): Promise<void> {
    this.cursor = start;
    for (;;) {
      const page = await bus.read(this.cursor, { count: 500 });
      this.send(page);
      if (page.length < 500 || !this.open) break;
    }
    const held = this.held ?? [];
    this.held = undefined;
    for (const batch of held) this.send(batch);
  }

  deliver(events: readonly StoredEvent[]): void {
    if (this.held) this.held.push([...events]);
    else this.send(events);
  }

  tick(now: number): void {
    // While catching up the response may not have begun; the catch-up writes soon enough.
    if (!this.open || this.held || now - this.lastWrite < this.opts.sseHeartbeatMs) return;
    this.write(': heartbeat\n\n');
  }

  end(): void {
    if (!this.open) return;
    this.open = false;
    this.res.end();
  }

  private send(events: readonly StoredEvent[]): void {
    for (const e of events) {
      if (!this.open) return;
      if (!isAfter(e.id, this.cursor)) continue; // seen already (the catch-up overlaps the feed)
      this.cursor = e.id;
      if (matchesFilter(e, this.filter)) this.write(sseFrame(e));
    }
  }

  private write(text: string): void {
    this.res.write(text);
    this.lastWrite = Date.now();
    // The feed waits for no one: a client that stops reading is dropped rather than buffered
    // without bound, and resumes from its Last-Event-ID.
    if (this.res.writableLength > SLOW_CLIENT_BYTES) this.end();
  }
}
