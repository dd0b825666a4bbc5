import type { FastifyInstance } from 'fastify';
import { GantryError } from '../errors.js';
import type { PruneReport } from '../registry/registry-prune.js';
import { requireRole, type TokenSource } from './auth.js';

export interface RegistryRoutesDeps {
  tokens: TokenSource;
  /** Prunes the registry now; absent where the server is built without a controller (tests). */
  pruneRegistry?: ((opts: { dryRun: boolean }) => Promise<PruneReport>) | undefined;
}

const deletedItem = {
  type: 'object',
  required: ['digest', 'tags'],
  properties: { digest: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
} as const;

/** The registry's housekeeping on demand (admin): what the periodic prune does, now. */
export async function registryRoutes(
  app: FastifyInstance,
  deps: RegistryRoutesDeps,
): Promise<void> {
  app.addHook('onRequest', requireRole(deps.tokens, 'admin'));
  app.post(
    '/api/registry/prune',
    {
      // Every app's images: not for a token scoped to some of them.
      config: { access: { unscoped: true } },
      schema: {
        tags: ['system'],
        summary:
          'Delete registry images no environment can roll back to, then collect garbage (admin)',
        description:
          'Keeps what each environment runs, is pinned to, or is rolling out, the images of its ' +
          'newest `registry.prune.keepPerEnvironment` succeeded rollouts, and images younger than ' +
          '`registry.prune.grace`. `dryRun` only reports. Garbage collection runs when ' +
          '`registry.prune.gcConfig` names a local docker-registry config and no build is running.',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { dryRun: { type: 'boolean', default: false } },
        },
        response: {
          200: {
            type: 'object',
            required: ['dryRun', 'apps', 'gc'],
            properties: {
              dryRun: { type: 'boolean' },
              gc: { type: 'string' },
              apps: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['app', 'deleted', 'kept'],
                  properties: {
                    app: { type: 'string' },
                    deleted: { type: 'array', items: deletedItem },
                    kept: { type: 'integer' },
                    error: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (req) => {
      if (!deps.pruneRegistry) {
        throw new GantryError('GANTRY_ERR_UNSUPPORTED', 'this server prunes no registry');
      }
      const body = (req.body ?? {}) as { dryRun?: boolean };
      return deps.pruneRegistry({ dryRun: body.dryRun ?? false });
    },
  );
}
