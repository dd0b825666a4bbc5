import type { FastifyInstance } from 'fastify';
import { GantryError } from '../errors.js';
import { FINISHED_BUILD_STATUSES, type AppRecord } from '../store/records.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import { authorize, seesApp, visibleEnvs, type Principal } from './access.js';
import { requireRole, type TokenSource } from './auth.js';
import { appStatusSummarySchema, statusView, summarize } from './env-status.js';
import { envsOf } from './rollouts.js';
import {
  appNameParam,
  buildIdParam,
  buildSchema,
  fromQuery,
  revisionSchema,
  appSchema,
} from './schemas.js';

export interface AppRoutesDeps {
  store: Store;
  rollouts: RolloutStore;
  tokens: TokenSource;
}

/** Read-only views of apps, their revisions and builds, and build logs. */
export async function appRoutes(app: FastifyInstance, deps: AppRoutesDeps): Promise<void> {
  const { store, rollouts } = deps;
  /** A build by id; one of an app outside the token's scope is as unknown as a missing one. */
  const loadBuild = async (who: Principal | undefined, id: string) => {
    const build = await store.getBuild(id);
    if (!build) throw new GantryError('GANTRY_ERR_NOT_FOUND', `build ${id} is not known`);
    authorize(who, { app: build.app });
    return build;
  };
  app.addHook('onRequest', requireRole(deps.tokens, 'viewer'));

  app.get(
    '/api/apps',
    {
      schema: {
        tags: ['apps'],
        summary:
          'Apps the controller knows, each with its latest build and revision and a status summary (worst health across environments)',
        response: {
          200: {
            type: 'object',
            properties: {
              apps: {
                type: 'array',
                items: {
                  ...appSchema,
                  properties: { ...appSchema.properties, status: appStatusSummarySchema },
                },
              },
            },
          },
        },
      },
    },
    async (req) => {
      const who = req.principal;
      // A scoped token sees its apps only, each with only its environments.
      const apps = (await store.listApps())
        .filter((a) => !who || seesApp(who, a.name))
        .map((a) => scopedApp(req.principal, a));
      const withLatest = await Promise.all(
        apps.map(async (a) => {
          const [latestBuild] = await store.listBuilds(a.name, 1);
          const [latestRevision] = await store.listRevisions(a.name, 1);
          const envs = visibleEnvs(who, await envsOf(rollouts, a));
          const statuses = await Promise.all(
            envs.map(async (e) => statusView(a.name, e, await rollouts.status(a.name, e))),
          );
          return { ...a, latestBuild, latestRevision, status: summarize(statuses) };
        }),
      );
      return { apps: withLatest };
    },
  );

  app.get<{ Params: { app: string } }>(
    '/api/apps/:app',
    {
      schema: {
        tags: ['apps'],
        summary: 'One app with its recent revisions and builds',
        params: appNameParam,
        response: {
          200: {
            type: 'object',
            properties: {
              app: appSchema,
              revisions: { type: 'array', items: revisionSchema },
              builds: { type: 'array', items: buildSchema },
            },
          },
        },
      },
    },
    async (req) => {
      const rec = await store.getApp(req.params.app);
      if (!rec) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${req.params.app} is not known`);
      const [revisions, builds] = await Promise.all([
        store.listRevisions(rec.name),
        store.listBuilds(rec.name),
      ]);
      return { app: scopedApp(req.principal, rec), revisions, builds };
    },
  );

  app.get<{ Params: { app: string } }>(
    '/api/apps/:app/builds',
    {
      schema: {
        tags: ['apps'],
        summary: "An app's builds, newest first",
        params: appNameParam,
        response: {
          200: { type: 'object', properties: { builds: { type: 'array', items: buildSchema } } },
        },
      },
    },
    async (req) => ({ builds: await store.listBuilds(req.params.app) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/builds/:id',
    {
      schema: {
        tags: ['apps'],
        summary: 'One build attempt',
        params: buildIdParam,
        response: { 200: buildSchema },
      },
    },
    async (req) => {
      return loadBuild(req.principal, req.params.id);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { from?: number } }>(
    '/api/builds/:id/log',
    {
      schema: {
        tags: ['apps'],
        summary: "A build's log from line `from` on (poll with `next` while it runs)",
        params: buildIdParam,
        querystring: fromQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              finished: { type: 'boolean' },
              from: { type: 'integer' },
              next: { type: 'integer' },
              lines: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
    async (req) => {
      const build = await loadBuild(req.principal, req.params.id);
      const from = req.query.from ?? 0;
      const lines = await store.readBuildLog(build.id, from);
      // `next` lets a reader poll for what was appended since, while the build runs.
      return {
        status: build.status,
        finished: FINISHED_BUILD_STATUSES.includes(build.status),
        from,
        next: from + lines.length,
        lines,
      };
    },
  );
}

/** An app record with only the environments the token may see. */
export function scopedApp(who: Principal | undefined, rec: AppRecord): AppRecord {
  if (!who?.envs) return rec;
  const envs = new Set(visibleEnvs(who, Object.keys(rec.environments)));
  const environments = Object.fromEntries(
    Object.entries(rec.environments).filter(([e]) => envs.has(e)),
  );
  // The branches other environments track are theirs to show, not this token's.
  const branches = new Set(Object.values(environments).map((e) => e.branch));
  return { ...rec, environments, branches: rec.branches.filter((b) => branches.has(b)) };
}
