import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Queues } from '../queue/queues.js';
import type { Store } from '../store/store.js';
import { requireRole, type TokenSource } from './auth.js';

export interface SystemDeps {
  redis: Redis;
  store: Store;
  queues: Queues;
  tokens: TokenSource;
}

const COUNTS = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

/** Liveness, queue depths and recent webhook deliveries. */
export async function systemRoutes(app: FastifyInstance, deps: SystemDeps): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness: 200 while Redis answers, 503 otherwise',
        response: {
          200: {
            type: 'object',
            properties: { ok: { type: 'boolean' }, redis: { type: 'string' } },
          },
          503: {
            type: 'object',
            properties: { ok: { type: 'boolean' }, redis: { type: 'string' } },
          },
        },
      },
    },
    async (_req, reply) => {
      const redis = deps.redis.status === 'ready';
      return reply.status(redis ? 200 : 503).send({ ok: redis, redis: deps.redis.status });
    },
  );

  app.register(async (api) => {
    api.addHook('onRequest', requireRole(deps.tokens, 'viewer'));
    api.get(
      '/api/queues',
      { schema: { tags: ['system'], summary: 'Job counts of the sources and builds queues' } },
      async () => {
        const [sources, builds] = await Promise.all([
          deps.queues.sources.getJobCounts(...COUNTS),
          deps.queues.builds.getJobCounts(...COUNTS),
        ]);
        return { sources, builds };
      },
    );
    api.get(
      '/api/webhooks/deliveries',
      {
        // Deliveries name repos and branches of every app.
        config: { access: { unscoped: true } },
        schema: { tags: ['system'], summary: 'Recent webhook deliveries and what became of them' },
      },
      async () => ({
        deliveries: await deps.store.listDeliveries(),
      }),
    );
  });
}
