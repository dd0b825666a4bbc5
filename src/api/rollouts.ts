import type { FastifyInstance } from 'fastify';
import { GantryError } from '../errors.js';
import { describePhase, phaseOf, type RolloutPlan, type RolloutState } from '../rollout/index.js';
import type { AppRecord, RolloutRecord } from '../store/records.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import { authorize, visibleEnvs, type Principal } from './access.js';
import { requireRole, type TokenSource } from './auth.js';
import { envStatusSchema, statusView } from './env-status.js';
import { appNameParam, fromQuery, nameSchema } from './schemas.js';

export interface RolloutRoutesDeps {
  store: Store;
  rollouts: RolloutStore;
  tokens: TokenSource;
}

const openObject = { type: 'object', additionalProperties: true } as const;

const rolloutIdParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^r-[a-z0-9]+-[a-z0-9]+$' } },
} as const;

/** A rollout as clients see it: the record, its derived phase, and no internal working state. */
export function rolloutView(rec: RolloutRecord) {
  const { plan, state, ...rest } = rec;
  // A record closed before its core finished (a failed release phase, an error) says its outcome.
  const phase =
    plan && state && !(rec.outcome && !(state as RolloutState).finished)
      ? describePhase(phaseOf(plan as RolloutPlan, state as RolloutState))
      : (rec.outcome ?? 'pending');
  const s = state as RolloutState | undefined;
  return {
    ...rest,
    phase,
    instances: (s?.instances ?? []).map((i) => ({
      slot: i.slot,
      role: i.role,
      revision: i.revision,
      host: i.host,
      id: i.id,
      runtime: i.runtime,
      routed: i.routed,
      health: i.health,
      retiring: i.retire?.reason ?? null,
    })),
    failure: s?.failure ?? null,
    evidence: s?.evidence ?? [],
  };
}

/**
 * An app's environments: those its spec names, then those still deployed that it no longer names
 * (orphaned: shown until pruned, never dropped from view silently).
 */
export async function envsOf(rollouts: RolloutStore, rec: AppRecord): Promise<string[]> {
  const named = Object.keys(rec.environments);
  const deployed = (await rollouts.deployedEnvs())
    .filter((d) => d.app === rec.name && !named.includes(d.env))
    .map((d) => d.env);
  return [...named, ...deployed];
}

/** A rollout by id, if the caller may see its app (else as unknown) and its environment. */
export async function loadRollout(
  rollouts: RolloutStore,
  id: string,
  who: Principal | undefined,
): Promise<RolloutRecord> {
  const rec = await rollouts.get(id);
  if (!rec) throw new GantryError('GANTRY_ERR_NOT_FOUND', `rollout ${id} is not known`);
  authorize(who, { app: rec.app, envs: [rec.env] });
  return rec;
}

/** Rollouts: list, one with its events, and pause / resume / abort for deployers. */
export async function rolloutRoutes(app: FastifyInstance, deps: RolloutRoutesDeps): Promise<void> {
  const { rollouts, store } = deps;

  app.register(async (read) => {
    read.addHook('onRequest', requireRole(deps.tokens, 'viewer'));
    read.get<{ Params: { app: string }; Querystring: { env?: string } }>(
      '/api/apps/:app/rollouts',
      {
        config: { access: { filtersEnvs: true } },
        schema: {
          tags: ['rollouts'],
          summary: "An app's environments and their recent rollouts, newest first",
          params: appNameParam,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { env: nameSchema },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                environments: {
                  type: 'array',
                  items: { ...openObject, properties: { status: envStatusSchema } },
                },
                rollouts: { type: 'array', items: openObject },
              },
            },
          },
        },
      },
      async (req) => {
        const rec = await store.getApp(req.params.app);
        if (!rec)
          throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${req.params.app} is not known`);
        const envs = req.query.env
          ? [req.query.env]
          : visibleEnvs(req.principal, await envsOf(rollouts, rec));
        const lists = await Promise.all(envs.map((e) => rollouts.list(rec.name, e)));
        const all = lists.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        const states = await Promise.all(
          envs.map(async (e) => {
            const [state, status] = await Promise.all([
              rollouts.env(rec.name, e),
              rollouts.status(rec.name, e),
            ]);
            return { ...state, status: statusView(rec.name, e, status) };
          }),
        );
        return { environments: states, rollouts: all.map(rolloutView) };
      },
    );
    read.get<{ Params: { id: string }; Querystring: { from?: number } }>(
      '/api/rollouts/:id',
      {
        schema: {
          tags: ['rollouts'],
          summary:
            'One rollout: plan-derived phase, instances, health evidence, and its events from `from` on',
          params: rolloutIdParam,
          querystring: fromQuery,
          response: {
            200: {
              type: 'object',
              properties: {
                rollout: openObject,
                events: { type: 'array', items: openObject },
                next: { type: 'integer' },
              },
            },
          },
        },
      },
      async (req) => {
        const rec = await loadRollout(rollouts, req.params.id, req.principal);
        const from = req.query.from ?? 0;
        const events = await rollouts.events(rec.id, from);
        return { rollout: rolloutView(rec), events, next: from + events.length };
      },
    );
  });

  app.register(async (write) => {
    write.addHook('onRequest', requireRole(deps.tokens, 'deployer'));
    for (const intent of ['pause', 'resume', 'abort'] as const) {
      write.post<{ Params: { id: string } }>(
        `/api/rollouts/:id/${intent}`,
        {
          schema: {
            tags: ['rollouts'],
            summary: `Ask a running rollout to ${intent} (applied at its next step)`,
            params: rolloutIdParam,
            response: {
              202: {
                type: 'object',
                properties: { accepted: { type: 'string' }, rollout: { type: 'string' } },
              },
            },
          },
        },
        async (req, reply) => {
          const rec = await loadRollout(rollouts, req.params.id, req.principal);
          if (rec.outcome) {
            throw new GantryError(
              'GANTRY_ERR_ROLLOUT_FINISHED',
              `rollout ${rec.id} already ended: ${rec.outcome}`,
            );
          }
          // Collected here, applied once by the rollout's next decision (in whichever process runs it).
          await rollouts.pushIntent(rec.id, intent);
          return reply.status(202).send({ accepted: intent, rollout: rec.id });
        },
      );
    }
  });
}
