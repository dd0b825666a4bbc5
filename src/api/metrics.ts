import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';

export interface MetricsRouteDeps {
  metrics: Metrics;
}

/** `GET /metrics`: Prometheus text format, no token (scrapers rarely carry one; nothing secret). */
export async function metricsRoutes(app: FastifyInstance, deps: MetricsRouteDeps): Promise<void> {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary:
          'Prometheus metrics: builds and rollouts by outcome, durations, queue depth, health verdicts',
        response: { 200: { type: 'string', description: 'Prometheus text exposition format' } },
      },
    },
    async (_req, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
    },
  );
}
