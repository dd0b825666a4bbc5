import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { appRoutes, type AppRoutesDeps } from './apps.js';
import { registerErrorHandler } from './errors.js';
import { rolloutRoutes, type RolloutRoutesDeps } from './rollouts.js';
import { systemRoutes, type SystemDeps } from './system.js';
import { webhookRoutes, type WebhookDeps } from './webhooks.js';

export type ServerDeps = WebhookDeps &
  RolloutRoutesDeps &
  AppRoutesDeps &
  SystemDeps & { log: Logger; apiBodyLimitBytes: number };

/** Builds the HTTP app without listening, so tests can `inject()` (fastify's testing guide). */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.apiBodyLimitBytes,
    trustProxy: false,
  });
  registerErrorHandler(app);
  await app.register(async (scope) => webhookRoutes(scope, deps));
  await app.register(async (scope) => appRoutes(scope, deps));
  await app.register(async (scope) => systemRoutes(scope, deps));
  await app.register(async (scope) => rolloutRoutes(scope, deps));
  return app;
}
