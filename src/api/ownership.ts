import type { FastifyInstance } from 'fastify';
import { GantryError } from '../errors.js';
import { configuredOwner } from '../source/ownership.js';
import type { RepoRegistry } from '../source/repos.js';
import type { Store } from '../store/store.js';
import { requireRole, type TokenSource } from './auth.js';
import { appNameParam } from './schemas.js';

export interface OwnershipRoutesDeps {
  store: Store;
  repos: RepoRegistry;
  tokens: TokenSource;
}

const TAGS = ['apps'];
const STR = { type: 'string' } as const;
const OWNER = {
  type: 'object',
  additionalProperties: true,
  properties: { repo: STR, path: STR, at: STR, source: STR },
} as const;

/**
 * Who owns an app name (viewer), and releasing it (admin): the next sync of any repo folder that
 * names the app then claims it. A name the controller config gives to a repo is released there.
 */
export async function ownershipRoutes(
  app: FastifyInstance,
  deps: OwnershipRoutesDeps,
): Promise<void> {
  app.register(async (read) => {
    read.addHook('onRequest', requireRole(deps.tokens, 'viewer'));
    read.get<{ Params: { app: string } }>(
      '/api/apps/:app/owner',
      {
        schema: {
          tags: TAGS,
          summary: 'The repo and folder that own an app name',
          params: appNameParam,
          response: { 200: { type: 'object', properties: { owner: OWNER } } },
        },
      },
      async (req) => {
        const owner = await deps.store.getAppOwner(req.params.app);
        if (!owner) {
          throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${req.params.app} has no owner yet`);
        }
        return { owner };
      },
    );
  });

  app.register(async (admin) => {
    // Checked on request: a caller without the role learns nothing about the name.
    admin.addHook('onRequest', requireRole(deps.tokens, 'admin'));
    admin.delete<{ Params: { app: string } }>(
      '/api/apps/:app/owner',
      {
        schema: {
          tags: TAGS,
          summary: 'Release an app name, so the next repo folder to name it claims it',
          params: appNameParam,
          response: {
            200: { type: 'object', properties: { app: STR, released: OWNER } },
          },
        },
      },
      async (req) => {
        const name = req.params.app;
        const configured = configuredOwner(deps.repos, name);
        if (configured) {
          throw new GantryError(
            'GANTRY_ERR_APP_OWNED',
            `app "${name}" belongs to repo ${configured.repo}, folder ${configured.path} by the controller config (repos[].owns); release it there`,
            { details: { app: name, owner: configured } },
          );
        }
        const released = await deps.store.releaseApp(name);
        if (!released) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${name} has no owner`);
        req.log.info({ app: name, released, by: req.principal?.name }, 'app name released');
        return { app: name, released };
      },
    );
  });
}
