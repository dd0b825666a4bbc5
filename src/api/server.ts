import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { RateLimits } from '../store/rate-limits.js';
import { appConfigRoutes, type AppConfigRoutesDeps } from './app-config.js';
import { appRoutes, type AppRoutesDeps } from './apps.js';
import { changeRoutes, type ChangeRoutesDeps } from './changes.js';
import { configRoutes, type ConfigRoutesDeps } from './config.js';
import { registryRoutes, type RegistryRoutesDeps } from './registry.js';
import { registerDocs } from './docs.js';
import { edgeRoutes, type EdgeRoutesDeps } from './edge.js';
import { registerErrorHandler } from './errors.js';
import { eventRoutes, type EventRoutesDeps } from './events.js';
import { registerGuards, type GuardOptions } from './guards.js';
import { historyRoutes, type HistoryRoutesDeps } from './history.js';
import { metricsRoutes, type MetricsRouteDeps } from './metrics.js';
import { operationRoutes, type OperationRoutesDeps } from './operations.js';
import { ownershipRoutes, type OwnershipRoutesDeps } from './ownership.js';
import { instanceLogRoutes, type InstanceLogDeps } from './instance-logs.js';
import { rolloutRoutes, type RolloutRoutesDeps } from './rollouts.js';
import { runRoutes, type RunRoutesDeps } from './run.js';
import { scaleRoutes, type ScaleRoutesDeps } from './scale.js';
import { systemRoutes, type SystemDeps } from './system.js';
import { timelineRoutes, type TimelineRoutesDeps } from './timeline.js';
import { uiRoutes } from './ui.js';
import { webhookRoutes, type WebhookDeps } from './webhooks.js';

export type ServerDeps = WebhookDeps &
  AppConfigRoutesDeps &
  ConfigRoutesDeps &
  EdgeRoutesDeps &
  RolloutRoutesDeps &
  AppRoutesDeps &
  ChangeRoutesDeps &
  InstanceLogDeps &
  RunRoutesDeps &
  ScaleRoutesDeps &
  RegistryRoutesDeps &
  SystemDeps &
  HistoryRoutesDeps &
  EventRoutesDeps &
  MetricsRouteDeps &
  OperationRoutesDeps &
  OwnershipRoutesDeps &
  TimelineRoutesDeps &
  GuardOptions & { log: Logger; apiBodyLimitBytes: number };

/** Builds the HTTP app without listening, so tests can `inject()` (fastify's testing guide). */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.apiBodyLimitBytes,
    trustProxy: false,
  });
  registerErrorHandler(app);
  // Docs and guards first: docs see routes as they are added (OpenAPI entries), and the /api
  // guard's hook must be on the root before the route scopes inherit their hooks.
  await registerDocs(app, { publicUrl: deps.publicUrl });
  // One set of buckets for the API guard and the webhook routes, in Redis beside everything else.
  const limits = new RateLimits(deps.redis, deps.store.keys);
  await registerGuards(app, { ...deps, limits });
  await app.register(async (scope) => webhookRoutes(scope, { ...deps, limits }));
  await app.register(async (scope) => appRoutes(scope, deps));
  await app.register(async (scope) => systemRoutes(scope, deps));
  await app.register(async (scope) => rolloutRoutes(scope, deps));
  await app.register(async (scope) => changeRoutes(scope, deps));
  await app.register(async (scope) => operationRoutes(scope, deps));
  await app.register(async (scope) => ownershipRoutes(scope, deps));
  await app.register(async (scope) => historyRoutes(scope, deps));
  await app.register(async (scope) => timelineRoutes(scope, deps));
  await app.register(async (scope) => eventRoutes(scope, deps));
  await app.register(async (scope) => metricsRoutes(scope, deps));
  await app.register(async (scope) => instanceLogRoutes(scope, deps));
  await app.register(async (scope) => runRoutes(scope, deps));
  await app.register(async (scope) => configRoutes(scope, deps));
  await app.register(async (scope) => edgeRoutes(scope, deps));
  await app.register(async (scope) => appConfigRoutes(scope, deps));
  await app.register(async (scope) => scaleRoutes(scope, deps));
  await app.register(async (scope) => registryRoutes(scope, deps));
  await app.register(async (scope) => uiRoutes(scope));
  return app;
}
