import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { GantryError } from '../errors.js';
import type { StoredEvent } from '../events/bus.js';
import type { Store } from '../store/store.js';
import { requireRole, type TokenSource } from './auth.js';

export interface EventRoutesDeps {
  redis: Redis;
  store: Store;
  tokens: TokenSource;
  /** Comment lines on an idle stream, so proxies and clients keep it open. */
  sseHeartbeatMs: number;
}

const STREAM_ID = /^[0-9]{1,20}-[0-9]{1,20}$/;

interface Filter {
  app?: string | undefined;
  rollout?: string | undefined;
}

/** Whether an event passes the connection's filters. */
export function matchesFilter(e: StoredEvent, f: Filter): boolean {
  if (f.app && e.app !== f.app) return false;
  if (f.rollout && (e.type !== 'rollout' || e.rolloutId !== f.rollout)) return false;
  return true;
}

/** One event in Server-Sent Events framing; the stream id lets a client resume after it. */
export function sseFrame(e: StoredEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * `GET /api/events`: the controller's event stream as Server-Sent Events. Each connection reads
 * the Redis stream with a blocking XREAD on a connection of its own (a blocked connection can
 * serve nobody else) and gives it back when the client goes. Tokens travel in the Authorization
 * header: the UI reads the stream with fetch, so no token ever sits in a URL or a log.
 */
export async function eventRoutes(app: FastifyInstance, deps: EventRoutesDeps): Promise<void> {
  const bus = deps.store.bus;
  const open = new Set<() => void>();
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => {
    for (const stop of open) stop();
  });
  app.addHook('onRequest', requireRole(deps.tokens, 'viewer'));

  app.get<{ Querystring: { app?: string; rollout?: string; after?: string } }>(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Live events (Server-Sent Events): rollout progress, builds, environment changes',
        description:
          'Frames are `id: <stream id>`, `event: rollout|env|build`, `data: <JSON>`. Resume with the `Last-Event-ID` header or `?after=<id>`; without either the stream starts with the next event. A comment line is sent when the stream is idle.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            app: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
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
      let after = resume ?? (await bus.lastId());
      // Named, so an operator (and a test) can see in CLIENT LIST what holds these connections.
      const conn = deps.redis.duplicate({ connectionName: `${deps.store.keys.prefix}:sse` });
      conn.on('error', () => undefined); // failures surface on the read, which ends the stream
      await conn.connect();

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': connected\n\n');

      let live = true;
      const stop = () => {
        if (!live) return;
        live = false;
        // Disconnecting aborts the blocked XREAD at once, which ends the loop below.
        conn.disconnect();
        res.end();
      };
      open.add(stop);
      res.on('close', stop);

      const filter = { app: req.query.app, rollout: req.query.rollout };
      let lastWrite = Date.now();
      try {
        while (live) {
          const events = await bus.read(after, {
            blockMs: deps.sseHeartbeatMs,
            connection: conn,
            count: 200,
          });
          for (const e of events) {
            after = e.id;
            if (!matchesFilter(e, filter)) continue;
            lastWrite = Date.now();
            // A slow reader: wait for the socket to drain rather than buffer without bound.
            if (!res.write(sseFrame(e))) await new Promise((r) => res.once('drain', r));
          }
          if (live && Date.now() - lastWrite >= deps.sseHeartbeatMs) {
            res.write(': heartbeat\n\n');
            lastWrite = Date.now();
          }
        }
      } catch (e) {
        // The client left (the read was aborted) or Redis failed: either way the stream ends,
        // and a client resumes from its Last-Event-ID.
        if (live) req.log.warn({ err: String(e) }, 'event stream ended on a Redis error');
      } finally {
        open.delete(stop);
        stop();
      }
    },
  );
}
