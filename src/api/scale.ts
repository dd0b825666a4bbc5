/**
 * `POST /api/apps/:app/scale` and `POST /api/apps/:app/restart` (deployer): a scale is a release
 * of the running image and config with a new formation, rolled out through the health gates with
 * no rebuild; a restart rolls the running release's instances one by one.
 */
import type { FastifyInstance } from 'fastify';
import type { ControllerConfig } from '../config/controller-config.js';
import { currentOf, type Current } from '../config/live-config.js';
import { DEFAULT_SPEC_LIMITS } from '../config/spec-limits.js';
import type { ConfigDeps } from '../deploy/operations/config.js';
import type { OpsDeps } from '../deploy/operations/context.js';
import { restart, scale } from '../deploy/operations/scale.js';
import type { ConfigStore } from '../release/config-store.js';
import { MAX_PROCESSES, PROCESS_NAME } from '../release/formation.js';
import { describeRelease, type ReleaseStore } from '../release/releases.js';
import { requireRole, type TokenSource } from './auth.js';
import { actor } from './operations.js';
import { appNameParam, nameSchema } from './schemas.js';

export type ScaleRoutesDeps = OpsDeps & {
  tokens: TokenSource;
  appConfig: ConfigStore;
  releases: ReleaseStore;
  /** The controller's config, for deploy.maxReplicas (the default cap without one). */
  config?: Current<ControllerConfig> | undefined;
};

const TAGS = ['operations'];
const STR = { type: 'string' } as const;
const INT = { type: 'integer' } as const;
const PROCESS = { type: 'string', pattern: PROCESS_NAME.source } as const;
/** The replicas cap is the controller's (checked with a message naming it); this bounds input. */
const REPLICAS = { type: 'integer', minimum: 0, maximum: 100_000 } as const;
const NULLABLE_STR = { type: ['string', 'null'] } as const;

type AppReq<B> = { Params: { app: string }; Body: B };

export async function scaleRoutes(app: FastifyInstance, deps: ScaleRoutesDeps): Promise<void> {
  const ops: ConfigDeps = { ...deps, config: deps.appConfig, releases: deps.releases };
  const maxReplicas = () =>
    deps.config ? currentOf(deps.config).deploy.maxReplicas : DEFAULT_SPEC_LIMITS.maxReplicas;
  app.addHook('onRequest', requireRole(deps.tokens, 'deployer'));
  // A restart of an app's only environment needs no body at all.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined || req.body === null) req.body = {};
  });

  app.post<AppReq<{ env?: string; processes: Record<string, number> }>>(
    '/api/apps/:app/scale',
    {
      schema: {
        tags: TAGS,
        summary: 'Set replicas per process type: a new release of what runs, no rebuild',
        description:
          "Stores the environment's formation (who set it, when) and, when something runs there, " +
          'makes a release of the running image and config with it and queues its rollout ' +
          '(`rolloutId`): instances are added or removed, never replaced. Otherwise the next ' +
          'deploy takes it (`release: null`). 400 GANTRY_ERR_SCALE_INVALID for a process the ' +
          "app's gantry.yaml does not declare (the message names those it does) or replicas " +
          'above deploy.maxReplicas; nothing changes then. Rolling back to a release restores ' +
          'its formation.',
        params: appNameParam,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['processes'],
          properties: {
            env: nameSchema,
            processes: {
              type: 'object',
              minProperties: 1,
              maxProperties: MAX_PROCESSES,
              propertyNames: PROCESS,
              additionalProperties: REPLICAS,
            },
          },
        },
        response: {
          202: {
            type: 'object',
            additionalProperties: false,
            required: ['app', 'env', 'processes', 'release', 'rolloutId'],
            properties: {
              app: STR,
              env: STR,
              processes: { type: 'object', additionalProperties: INT },
              release: {
                type: ['object', 'null'],
                additionalProperties: false,
                properties: { version: INT, line: STR },
              },
              rolloutId: NULLABLE_STR,
            },
          },
        },
      },
    },
    async (req, reply) => {
      const r = await scale(ops, {
        app: req.params.app,
        env: req.body.env,
        processes: req.body.processes,
        actor: actor(req),
        maxReplicas: maxReplicas(),
      });
      return reply.status(202).send({
        app: r.app,
        env: r.env,
        processes: r.processes,
        release: r.release
          ? { version: r.release.version, line: describeRelease(r.release) }
          : null,
        rolloutId: r.rolloutId,
      });
    },
  );

  app.post<AppReq<{ env?: string; process?: string }>>(
    '/api/apps/:app/restart',
    {
      schema: {
        tags: TAGS,
        summary: 'Rolling restart of the running release (all process types, or `process`)',
        description:
          'Queues a rollout of the release that runs now in which every instance (of `process`, ' +
          'when given) is replaced through the health gates, one surge at a time: no rebuild, no ' +
          'new release. Shown in the history as a rollout triggered by `<who> (restart)`. 409 ' +
          'GANTRY_ERR_ENV_EMPTY when nothing runs there.',
        params: appNameParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { env: nameSchema, process: PROCESS },
        },
        response: {
          202: {
            type: 'object',
            additionalProperties: false,
            required: ['app', 'env', 'processes', 'rolloutId'],
            properties: {
              app: STR,
              env: STR,
              processes: { type: 'array', items: STR },
              release: { type: ['integer', 'null'] },
              rolloutId: STR,
            },
          },
        },
      },
    },
    async (req, reply) =>
      reply.status(202).send(
        await restart(deps, {
          app: req.params.app,
          env: req.body.env,
          process: req.body.process,
          actor: actor(req),
        }),
      ),
  );
}
