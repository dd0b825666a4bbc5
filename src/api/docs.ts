import { createRequire } from 'node:module';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

// src/api and dist/api are both two levels below the package root.
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string })
  .version;

/** Where a route's path puts it in the OpenAPI document, for routes that name no tag. */
const TAGS: readonly (readonly [RegExp, string])[] = [
  [/^\/webhooks\//, 'webhooks'],
  [/^\/api\/history/, 'history'],
  [/^\/api\/events/, 'events'],
  [/^\/api\/rollouts\//, 'rollouts'],
  [/^\/api\/apps\/[^/]+\/rollouts/, 'rollouts'],
  [/^\/api\/(apps|builds)/, 'apps'],
  [/^\/(healthz|metrics)$|^\/api\/(queues|webhooks)/, 'system'],
];

/** Only the API surface is documented: the web UI's pages and files are not endpoints. */
function documented(url: string): boolean {
  return /^\/(api|webhooks)\//.test(url) || url === '/healthz' || url === '/metrics';
}

/**
 * The OpenAPI 3 document of every route, built from the routes' own JSON schemas, at /docs/json
 * (UI at /docs). Registered before the routes, so it sees each one as it is added.
 */
export async function registerDocs(
  app: FastifyInstance,
  opts: { publicUrl?: string | undefined },
): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Gantry API',
        version: VERSION,
        description:
          'Self-hosted GitOps continuous delivery. Authenticate with `Authorization: Bearer <token>`; roles: viewer < deployer < admin. Errors are `{code, message}` with a stable `GANTRY_ERR_*` code.',
      },
      ...(opts.publicUrl ? { servers: [{ url: opts.publicUrl }] } : {}),
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API token from the controller config',
          },
        },
      },
      tags: [
        { name: 'apps', description: 'Apps, revisions and builds' },
        { name: 'rollouts', description: 'Rollouts and their control' },
        { name: 'operations', description: 'Deploy, roll back, promote, lock' },
        { name: 'history', description: 'What ran where, by commit and pull request' },
        { name: 'config', description: 'Config vars, secrets and releases of app environments' },
        { name: 'events', description: 'Live progress' },
        { name: 'webhooks', description: 'Push notifications from forges (signed, no token)' },
        { name: 'system', description: 'Health, metrics, queues' },
      ],
    },
    transform: ({ schema, url }) => {
      const s: Record<string, unknown> = { ...(schema ?? {}) };
      if (!documented(url)) return { schema: { ...s, hide: true }, url };
      if (!s.tags) {
        const tag = TAGS.find(([re]) => re.test(url))?.[1];
        if (tag) s.tags = [tag];
      }
      // Bearer tokens guard /api; webhooks carry a signature, /healthz and /metrics are open.
      if (url.startsWith('/api/') && !s.security) s.security = [{ bearer: [] }];
      return { schema: s, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
