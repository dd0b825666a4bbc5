import type { FastifyInstance } from 'fastify';
import { selectEnv } from '../deploy/operations/choices.js';
import { GantryError } from '../errors.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import { visibleEnvs } from './access.js';
import { requireRole, type TokenSource } from './auth.js';
import { envEventSchema } from './env-status.js';
import { envsOf } from './rollouts.js';
import { appNameParam, nameSchema } from './schemas.js';

export interface TimelineRoutesDeps {
  store: Store;
  rollouts: RolloutStore;
  tokens: TokenSource;
}

const DEFAULT_LIMIT = 50;

/** `GET /api/apps/:app/timeline`: what happened to an environment between rollouts. */
export async function timelineRoutes(app: FastifyInstance, deps: TimelineRoutesDeps) {
  const { store, rollouts } = deps;
  app.addHook('onRequest', requireRole(deps.tokens, 'viewer'));
  app.get<{ Params: { app: string }; Querystring: { env?: string; limit?: number } }>(
    '/api/apps/:app/timeline',
    {
      // Unnamed, the environment is the only one the token sees (a named one is checked).
      config: { access: { filtersEnvs: true } },
      schema: {
        tags: ['apps'],
        summary:
          "An environment's timeline outside rollouts (self-heal repairs, drift, orphaned, pruned), newest first",
        description:
          '`env` may be left out when the app has one environment. An environment that was pruned keeps its timeline (the `pruned` line last).',
        params: appNameParam,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            env: nameSchema,
            limit: { type: 'integer', minimum: 1, maximum: 200 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              app: { type: 'string' },
              env: { type: 'string' },
              events: { type: 'array', items: envEventSchema },
            },
          },
        },
      },
    },
    async (req) => {
      const rec = await store.getApp(req.params.app);
      if (!rec) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${req.params.app} is not known`);
      // A named environment is read as asked, even one the spec and the reconciler forgot: its
      // timeline outlives a prune, so "what happened to staging" still has an answer.
      const env =
        req.query.env ??
        selectEnv(visibleEnvs(req.principal, await envsOf(rollouts, rec)), undefined);
      const events = await rollouts.envEvents(rec.name, env, req.query.limit ?? DEFAULT_LIMIT);
      return { app: rec.name, env, events: events.reverse() };
    },
  );
}
