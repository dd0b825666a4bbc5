/**
 * "What's in this deploy": the commits a rollout or a build ships, listed from git between the
 * two revisions, so every commit of a multi-commit push (or of pushes coalesced, or skipped for
 * the app by path filters) is there, not only the heads Gantry recorded.
 */
import type { FastifyInstance } from 'fastify';
import { GantryError } from '../errors.js';
import { changesBetween, type Changes } from '../history/changes.js';
import { prUrlFor } from '../history/pull-request.js';
import type { RepoRegistry } from '../source/repos.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import { authorize } from './access.js';
import { requireRole, type TokenSource } from './auth.js';
import { buildIdParam, commitSchema } from './schemas.js';

export interface ChangeRoutesDeps {
  store: Store;
  rollouts: RolloutStore;
  repos: RepoRegistry;
  tokens: TokenSource;
}

const STR = { type: 'string' } as const;
const CHANGES = {
  200: {
    type: 'object',
    properties: {
      app: STR,
      from: { type: ['string', 'null'] },
      to: STR,
      direction: { type: 'string', enum: ['first', 'same', 'forward', 'back'] },
      commits: { type: 'array', items: commitSchema },
    },
  },
} as const;

const rolloutIdParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^r-[a-z0-9]+-[a-z0-9]+$' } },
} as const;

/** Rollouts' and builds' commit ranges, read from the app's repository cache. */
export async function changeRoutes(app: FastifyInstance, deps: ChangeRoutesDeps): Promise<void> {
  app.addHook('onRequest', requireRole(deps.tokens, 'viewer'));

  /** The commits from `from` to `to` of `appName`, fetched into the cache as needed. */
  const between = async (
    appName: string,
    from: string | null,
    to: string,
    branch: string | undefined,
  ): Promise<{ app: string; from: string | null; to: string } & Changes> => {
    const appRec = await deps.store.getApp(appName);
    if (!appRec) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${appName} is not known`);
    const repo = deps.repos.get(appRec.repo);
    const rev = await deps.store.getRevision(appName, to);
    const changes = await changesBetween(repo.cache, from, to, {
      branch: rev?.branch ?? branch,
      prUrl: prUrlFor(repo.config.url),
    });
    return { app: appName, from, to, ...changes };
  };

  app.get<{ Params: { id: string } }>(
    '/api/rollouts/:id/commits',
    {
      schema: {
        tags: ['rollouts'],
        summary:
          'What a rollout ships: every commit in from..to from git, newest first (a move back lists what it takes out)',
        params: rolloutIdParam,
        response: CHANGES,
      },
    },
    async (req) => {
      const rec = await deps.rollouts.get(req.params.id);
      if (!rec)
        throw new GantryError('GANTRY_ERR_NOT_FOUND', `rollout ${req.params.id} is not known`);
      authorize(req.principal, { app: rec.app, envs: [rec.env] });
      const env = (await deps.store.getApp(rec.app))?.environments[rec.env];
      return between(rec.app, rec.from?.sha ?? null, rec.to.sha, env?.branch);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/builds/:id/commits',
    {
      schema: {
        tags: ['apps'],
        summary:
          "What a build ships: every commit from the app's previous revision on the branch to the built one, from git, newest first",
        params: buildIdParam,
        response: CHANGES,
      },
    },
    async (req) => {
      const build = await deps.store.getBuild(req.params.id);
      if (!build)
        throw new GantryError('GANTRY_ERR_NOT_FOUND', `build ${req.params.id} is not known`);
      authorize(req.principal, { app: build.app });
      return between(build.app, build.since ?? null, build.sha, build.branch);
    },
  );
}
