/**
 * An app environment's config vars and secrets, and its releases: read them (viewer), change
 * them (deployer: every change is a release rolled out through the health gates), import secrets
 * from the controller's environment and re-seal them after a key rotation (admin). Secret values
 * go in, never out: answers, log lines and errors name secrets and their versions only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  changeConfig,
  importEnvSecrets,
  readConfig,
  type ConfigChangeResult,
  type ConfigDeps,
} from '../deploy/operations/config.js';
import type { OpsDeps } from '../deploy/operations/context.js';
import { declaredSecrets, listReleases, rotateSecrets } from '../deploy/operations/releases.js';
import { GantryError } from '../errors.js';
import type { ConfigStore } from '../release/config-store.js';
import { describeRelease, type ReleaseStore } from '../release/releases.js';
import { requireRole, type TokenSource } from './auth.js';
import { appNameParam, nameSchema } from './schemas.js';

export type AppConfigRoutesDeps = OpsDeps & {
  tokens: TokenSource;
  /** Named apart from `config` (the controller's own configuration, see config.ts). */
  appConfig: ConfigStore;
  releases: ReleaseStore;
};

const TAGS = ['config'];
const ENV = nameSchema;
const STR = { type: 'string' } as const;
const INT = { type: 'integer' } as const;
const NAMES = { type: 'array', items: STR } as const;
/** Keys are checked by the store (with a message that says why); sizes are bounded here. */
const KEY = { type: 'string', minLength: 1, maxLength: 128 } as const;
const VALUES = {
  type: 'object',
  maxProperties: 100,
  propertyNames: KEY,
  additionalProperties: { type: 'string', maxLength: 64 * 1024 },
} as const;
const open = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', additionalProperties: true, required, properties }) as const;
const entry = (value: Record<string, unknown>) =>
  ({ type: 'object', additionalProperties: value }) as const;

/** A release as answers carry it: config by value for vars, by version for secrets. */
const RELEASE = open({
  version: INT,
  line: STR,
  sha: STR,
  image: STR,
  by: STR,
  createdAt: STR,
  current: { type: 'boolean' },
  change: { type: 'object', additionalProperties: true },
  config: open({
    vars: entry(STR),
    secrets: entry(INT),
  }),
});
/**
 * What a change did: the keys (never values), the release made and the rollout moving to it.
 * Response schemas list their fields, so nothing else can slip into an answer.
 */
const CHANGED = {
  200: {
    type: 'object',
    additionalProperties: false,
    required: ['app', 'env', 'changed', 'release', 'rolloutId'],
    properties: {
      app: STR,
      env: STR,
      changed: open({ set: NAMES, secrets: NAMES, unset: NAMES }),
      release: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: { version: INT, line: STR },
      },
      rolloutId: { type: ['string', 'null'] },
      imported: NAMES,
      missing: NAMES,
    },
  },
} as const;

function actor(req: FastifyRequest): string {
  const who = req.principal?.name;
  if (!who) throw new GantryError('GANTRY_ERR_UNAUTHORIZED', 'a valid bearer token is required');
  return who;
}

/** The answer to a change: the new release by number and line, never its config. */
function changed(r: ConfigChangeResult) {
  return {
    app: r.app,
    env: r.env,
    changed: r.changed,
    release: r.release ? { version: r.release.version, line: describeRelease(r.release) } : null,
    rolloutId: r.rolloutId,
  };
}

type AppReq<B = unknown, Q = unknown> = { Params: { app: string }; Body: B; Querystring: Q };

export async function appConfigRoutes(
  app: FastifyInstance,
  deps: AppConfigRoutesDeps,
): Promise<void> {
  const ops: ConfigDeps = { ...deps, config: deps.appConfig, releases: deps.releases };

  app.register(async (read) => {
    read.addHook('onRequest', requireRole(deps.tokens, 'viewer'));
    read.get<AppReq<unknown, { env?: string }>>(
      '/api/apps/:app/config',
      {
        schema: {
          tags: TAGS,
          summary:
            "An environment's config: var values; secrets as who set them when, never values",
          params: appNameParam,
          querystring: { type: 'object', additionalProperties: false, properties: { env: ENV } },
          response: {
            200: {
              type: 'object',
              additionalProperties: false,
              required: ['app', 'env', 'release', 'vars', 'secrets'],
              properties: {
                app: STR,
                env: STR,
                release: { type: ['integer', 'null'] },
                vars: entry({
                  type: 'object',
                  additionalProperties: false,
                  properties: { value: STR, by: STR, at: STR },
                }),
                secrets: entry({
                  type: 'object',
                  additionalProperties: false,
                  properties: { set: { type: 'boolean' }, version: INT, by: STR, at: STR },
                }),
                // The formation `gantry scale` set: process types not named run the spec's replicas.
                scale: entry({
                  type: 'object',
                  additionalProperties: false,
                  properties: { replicas: INT, by: STR, at: STR },
                }),
              },
            },
          },
        },
      },
      async (req) => {
        const r = await readConfig(ops, { app: req.params.app, env: req.query.env });
        const secrets = Object.fromEntries(
          Object.entries(r.config.secrets).map(([k, s]) => [
            k,
            { set: true, version: s.version, by: s.by, at: s.at },
          ]),
        );
        const { vars, scale } = r.config;
        return { app: r.app, env: r.env, release: r.release, vars, secrets, scale };
      },
    );
    read.get<AppReq<unknown, { env?: string; limit?: number }>>(
      '/api/apps/:app/releases',
      {
        schema: {
          tags: TAGS,
          summary: "An environment's releases (image + config), newest first, the current marked",
          params: appNameParam,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { env: ENV, limit: { type: 'integer', minimum: 1, maximum: 500 } },
          },
          response: {
            200: open({
              app: STR,
              env: STR,
              current: { type: ['integer', 'null'] },
              releases: { type: 'array', items: RELEASE },
            }),
          },
        },
      },
      async (req) => listReleases(ops, { app: req.params.app, ...req.query }),
    );
  });

  app.register(async (write) => {
    write.addHook('onRequest', requireRole(deps.tokens, 'deployer'));
    write.patch<
      AppReq<{
        env?: string;
        set?: Record<string, string>;
        secrets?: Record<string, string>;
        unset?: string[];
      }>
    >(
      '/api/apps/:app/config',
      {
        schema: {
          tags: TAGS,
          summary: 'Set or unset vars and secrets: a new release, rolled out when something runs',
          description:
            'Keys are environment variable names. `secrets` are sealed (AES-256-GCM) and never ' +
            'returned. When something runs in the environment, the change makes a release of the ' +
            'running image with the new config and queues its rollout (`rolloutId`); otherwise the ' +
            'next deploy takes it (`release: null`). 400 GANTRY_ERR_CONFIG_VAR_INVALID names the ' +
            'bad key and changes nothing; 422 GANTRY_ERR_SECRET_MISSING when the controller has no ' +
            'secrets key.',
          params: appNameParam,
          body: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              env: ENV,
              set: VALUES,
              secrets: VALUES,
              unset: { type: 'array', maxItems: 100, items: KEY },
            },
          },
          response: CHANGED,
        },
      },
      async (req) => {
        const { env, set, secrets, unset } = req.body;
        return changed(
          await changeConfig(ops, {
            app: req.params.app,
            env,
            change: { vars: set, secrets, unset },
            actor: actor(req),
          }),
        );
      },
    );
  });

  app.register(async (admin) => {
    admin.addHook('onRequest', requireRole(deps.tokens, 'admin'));
    // An import or a rotate of an app environment needs no body beyond its defaults.
    admin.addHook('preValidation', async (req) => {
      if (req.body === undefined || req.body === null) req.body = {};
    });
    admin.post<AppReq<{ env?: string; names?: string[] }>>(
      '/api/apps/:app/config/import-env',
      {
        schema: {
          tags: TAGS,
          summary: 'Import secrets from GANTRY_SECRET_<NAME> in the controller environment (admin)',
          description:
            "The migration from secrets in the controller's environment: each of `names` (default: " +
            "the secrets the app's gantry.yaml declares, `run.secrets`) found as GANTRY_SECRET_<NAME> " +
            'becomes a secret of the environment, as one release. Answers with the names imported ' +
            'and missing, never values.',
          params: appNameParam,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              env: ENV,
              names: { type: 'array', minItems: 1, maxItems: 100, items: KEY },
            },
          },
          response: CHANGED,
        },
      },
      async (req) => {
        const { env, names } = req.body;
        const target = names
          ? { env, names }
          : await declaredSecrets(ops, { app: req.params.app, env });
        if (target.names.length === 0) {
          throw new GantryError(
            'GANTRY_ERR_BAD_REQUEST',
            `${req.params.app} declares no secrets (run.secrets): name the secrets to import`,
          );
        }
        const r = await importEnvSecrets(ops, {
          app: req.params.app,
          env: target.env,
          names: target.names,
          actor: actor(req),
        });
        return { ...changed(r), imported: r.imported, missing: r.missing };
      },
    );
    admin.post(
      '/api/secrets/rotate',
      {
        schema: {
          tags: TAGS,
          summary:
            'Re-seal every stored secret under the current key, after a key rotation (admin)',
          response: {
            200: {
              type: 'object',
              additionalProperties: false,
              properties: { resealed: INT, environments: INT },
            },
          },
        },
      },
      async () => rotateSecrets(ops),
    );
  });
}
