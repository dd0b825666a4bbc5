import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { GantryError } from '../errors.js';
import { HistoryReader } from '../history/query.js';
import type { Store } from '../store/store.js';
import { seesEnv } from './access.js';
import { requireRole, type TokenSource } from './auth.js';
import { rolloutView } from './rollouts.js';
import { commitSchema, nameSchema } from './schemas.js';

export interface HistoryRoutesDeps {
  redis: Redis;
  store: Store;
  tokens: TokenSource;
}

export const historyEntrySchema = {
  type: 'object',
  additionalProperties: true,
  description:
    'A rollout (as GET /api/rollouts/:id shows it) with its commit and whether it still runs',
  properties: {
    id: { type: 'string' },
    app: { type: 'string' },
    env: { type: 'string' },
    kind: { type: 'string', enum: ['deploy', 'rollback', 'auto-rollback'] },
    trigger: { type: 'object', additionalProperties: true },
    from: { type: ['object', 'null'], additionalProperties: true },
    to: { type: 'object', additionalProperties: true },
    createdAt: { type: 'string' },
    finishedAt: { type: 'string' },
    outcome: { type: 'string' },
    reason: { type: 'string' },
    phase: { type: 'string' },
    pr: { type: 'object', additionalProperties: true },
    commit: commitSchema,
    running: {
      type: 'boolean',
      description: 'succeeded, and this revision still serves the environment',
    },
    durationMs: { type: 'integer' },
  },
} as const;

interface HistoryQuerystring {
  app: string;
  env?: string;
  sha?: string;
  pr?: number;
  limit: number;
  before?: string;
}

/** `GET /api/history`: rollouts by app, environment, commit or pull request, newest first. */
export async function historyRoutes(app: FastifyInstance, deps: HistoryRoutesDeps): Promise<void> {
  const reader = new HistoryReader(deps.redis, deps.store.keys);
  app.addHook('onRequest', requireRole(deps.tokens, 'viewer'));

  app.get<{ Querystring: HistoryQuerystring }>(
    '/api/history',
    {
      config: { access: { filtersEnvs: true } },
      schema: {
        tags: ['history'],
        summary: 'What was rolled out: by app, environment, commit or pull request',
        description:
          'Newest first. `running` says whether the rollout succeeded and its revision still serves its environment. Pass `next` back as `before` for the next page.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['app'],
          properties: {
            app: nameSchema,
            env: nameSchema,
            sha: { type: 'string', pattern: '^[0-9a-f]{7,40}$', description: 'commit or prefix' },
            pr: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            before: { type: 'string', maxLength: 64, description: 'cursor: a previous `next`' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              rollouts: { type: 'array', items: historyEntrySchema },
              next: { type: 'string' },
            },
          },
        },
      },
    },
    async (req) => {
      const q = req.query;
      if (!(await deps.store.getApp(q.app))) {
        throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${q.app} is not known`);
      }
      const page = await reader.query(q);
      const who = req.principal;
      // Filtered after the page is read, so a scoped page may be short; `next` still goes on.
      const items = page.items.filter((i) => !who || seesEnv(who, i.record.env));
      return {
        rollouts: items.map((i) => ({
          ...rolloutView(i.record),
          commit: i.commit,
          running: i.running,
          ...(i.durationMs === undefined ? {} : { durationMs: i.durationMs }),
        })),
        ...(page.next ? { next: page.next } : {}),
      };
    },
  );
}
