import type { FastifyInstance } from 'fastify';
import { GantryError, errorMessage } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import type { Store } from '../store/store.js';
import { seesEnv } from './access.js';
import { requireRole, type TokenSource } from './auth.js';
import { sinceTime, streamLogs, type LogStreamDeps } from './log-stream.js';
import { appNameParam, nameSchema } from './schemas.js';

export interface InstanceLogDeps extends LogStreamDeps {
  store: Store;
  tokens: TokenSource;
  /** Absent when this controller runs no deploys (`deploy.enabled: false`). */
  runtime?: Runtime | undefined;
}

const DEFAULT_LINES = 100;
const MAX_LINES = 5_000;

/** One instance's log tail as the API returns it. */
export interface InstanceLogView {
  env: string;
  slot: string;
  revision: string;
  host: string;
  state: string;
  lines: string[];
  /** Set when the lines could not be read (the instance went away between list and read). */
  error?: string;
}

/** Ordered by environment, then slot, so repeated calls list instances in the same order. */
function byPlace(a: Instance, b: Instance): number {
  return a.env.localeCompare(b.env) || a.slot.localeCompare(b.slot);
}

/** `GET /api/apps/:app/logs`: the last lines of every instance the runtime finds by its labels. */
export async function instanceLogRoutes(
  app: FastifyInstance,
  deps: InstanceLogDeps,
): Promise<void> {
  app.addHook('onRequest', requireRole(deps.tokens, 'viewer'));
  app.get<{
    Params: { app: string };
    Querystring: {
      env?: string;
      lines?: number;
      follow?: '1' | '0' | 'true' | 'false';
      since?: string;
    };
  }>(
    '/api/apps/:app/logs',
    {
      config: { access: { filtersEnvs: true } },
      schema: {
        tags: ['apps'],
        summary: "The last log lines of each of an app's instances, or all of them live",
        description:
          'Instances are found by their labels on the runtime (what runs now), in every environment unless `env` is given. 503 when this controller runs no deploys. With `follow=1` or `since` the answer is a Server-Sent Events stream instead: `event: line` frames (`{env, slot, revision, at, line}`), `joined` and `left` as instances come and go (a rollout), and `end` when, without `follow`, every line was sent. Secret values are redacted.',
        params: appNameParam,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            env: nameSchema,
            lines: { type: 'integer', minimum: 1, maximum: MAX_LINES },
            follow: {
              type: 'string',
              enum: ['1', '0', 'true', 'false'],
              description: 'Stream new lines as they come (SSE).',
            },
            since: {
              type: 'string',
              maxLength: 64,
              description: 'Lines since a duration ago (10m, 2h) or a time (SSE).',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              instances: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    env: { type: 'string' },
                    slot: { type: 'string' },
                    revision: { type: 'string' },
                    host: { type: 'string' },
                    state: { type: 'string' },
                    lines: { type: 'array', items: { type: 'string' } },
                    error: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (req, reply) => {
      const rec = await deps.store.getApp(req.params.app);
      if (!rec) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${req.params.app} is not known`);
      const { env } = req.query;
      if (env !== undefined && !(env in rec.environments)) {
        throw new GantryError(
          'GANTRY_ERR_ENV_UNKNOWN',
          `app ${rec.name} has no environment ${env} (it has: ${Object.keys(rec.environments).join(', ') || 'none'})`,
        );
      }
      const runtime = deps.runtime;
      if (!runtime) {
        throw new GantryError(
          'GANTRY_ERR_DEPLOY_DISABLED',
          'this controller runs no deploys (deploy.enabled is false), so it has no instance logs',
        );
      }
      const who = req.principal;
      const follow = req.query.follow === '1' || req.query.follow === 'true';
      if (follow || req.query.since !== undefined) {
        const since = sinceTime(req.query.since, Date.now());
        return streamLogs({ ...deps, runtime }, req, reply, {
          app: rec.name,
          env,
          since,
          lines: req.query.lines,
          follow,
          sees: who ? (e) => seesEnv(who, e) : undefined,
        });
      }
      const lines = req.query.lines ?? DEFAULT_LINES;
      // Without --env: every environment of the app, each instance labelled with its own.
      const found = (await runtime.list({ app: rec.name, env }))
        .filter((i) => !who || seesEnv(who, i.env))
        .sort(byPlace);
      const instances = await Promise.all(
        found.map(async (i): Promise<InstanceLogView> => {
          const view = {
            env: i.env,
            slot: i.slot,
            revision: i.revision,
            host: i.host,
            state: i.state,
          };
          try {
            return { ...view, lines: await runtime.logs(i, lines) };
          } catch (e) {
            return { ...view, lines: [], error: errorMessage(e) };
          }
        }),
      );
      return { instances };
    },
  );
}
