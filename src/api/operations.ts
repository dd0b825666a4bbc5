import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GantryError } from '../errors.js';
import { lock, unlock } from '../deploy/operations/lock.js';
import { deployRef, promote, retry, unpin } from '../deploy/operations/manual-deploy.js';
import { prune, type PruneDeps } from '../deploy/operations/prune.js';
import { rollback, rollbackPreview } from '../deploy/operations/rollback.js';
import { holds } from './access.js';
import { requireRole, type TokenSource } from './auth.js';
import { loadRollout } from './rollouts.js';
import { appNameParam, commitSchema, nameSchema } from './schemas.js';

export type OperationRoutesDeps = PruneDeps & { tokens: TokenSource };

const ENV = nameSchema;
/** A rollback's target: a commit (abbreviated or full), or a release `vN` (image and config). */
const ROLLBACK_TO = { type: 'string', pattern: '^([0-9a-f]{4,64}|[vV][1-9][0-9]{0,8})$' } as const;
const TAGS = ['operations'];

/** Response shapes, open (new fields reach clients without a schema bump), for the OpenAPI document. */
const open = (properties: Record<string, unknown>) =>
  ({ type: 'object', additionalProperties: true, properties }) as const;
const STR = { type: 'string' } as const;
const COMMIT = open({ ...commitSchema.properties, image: STR });
const QUEUED = { 202: open({ rolloutId: STR, buildId: STR, env: STR, sha: STR, image: STR }) };

const body = (required: string[], properties: Record<string, unknown>) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const;

/** Whether the caller may deploy refs of branches the environment does not track. */
function holdsAnyBranch(req: FastifyRequest): boolean {
  return req.principal !== undefined && holds(req.principal, 'deploy:any-branch');
}

/** Who asked: the token's name, as rollout triggers and locks record it. */
export function actor(req: FastifyRequest): string {
  const who = req.principal?.name;
  // requireRole ran first; a route without it is a programming error, never an anonymous write.
  if (!who) throw new GantryError('GANTRY_ERR_UNAUTHORIZED', 'a valid bearer token is required');
  return who;
}

/**
 * Deploy operations: deploy a ref, roll back (and preview it), promote, lock / unlock, unpin,
 * prune, retry. Tokens are checked on request, before the body is read: a caller without the role
 * changes nothing and learns nothing about the body's validity.
 */
export async function operationRoutes(
  app: FastifyInstance,
  deps: OperationRoutesDeps,
): Promise<void> {
  app.register(async (read) => {
    read.addHook('onRequest', requireRole(deps.tokens, 'viewer'));
    read.get<{ Params: { app: string }; Querystring: { env?: string; to?: string } }>(
      '/api/apps/:app/rollback-preview',
      {
        schema: {
          tags: TAGS,
          summary: 'What a rollback would take out of production',
          params: appNameParam,
          response: {
            200: open({
              env: STR,
              from: COMMIT,
              to: COMMIT,
              removed: { type: 'array', items: COMMIT },
            }),
          },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { env: ENV, to: ROLLBACK_TO },
          },
        },
      },
      async (req) => rollbackPreview(deps, { app: req.params.app, ...req.query }),
    );
  });

  app.register(async (write) => {
    write.addHook('onRequest', requireRole(deps.tokens, 'deployer'));
    // `unlock` and `unpin` of an app's only environment need no body at all.
    write.addHook('preValidation', async (req) => {
      if (req.body === undefined || req.body === null) req.body = {};
    });
    type AppReq<B> = { Params: { app: string }; Body: B };

    write.post<AppReq<{ env?: string; ref: string }>>(
      '/api/apps/:app/deploy',
      {
        schema: {
          tags: TAGS,
          summary: 'Deploy a commit or branch head (built first when it has no image)',
          description:
            "A ref of another branch than the environment's needs the `deploy:any-branch` permission (403 GANTRY_ERR_PERMISSION_REQUIRED).",
          params: appNameParam,
          body: body(['ref'], { env: ENV, ref: { type: 'string', minLength: 1, maxLength: 255 } }),
          response: QUEUED,
        },
      },
      async (req, reply) =>
        reply.status(202).send(
          await deployRef(deps, {
            app: req.params.app,
            ...req.body,
            actor: actor(req),
            anyBranch: holdsAnyBranch(req),
          }),
        ),
    );

    write.post<AppReq<{ env?: string; to?: string }>>(
      '/api/apps/:app/rollback',
      {
        schema: {
          tags: TAGS,
          summary:
            'Roll back to the previous healthy revision (or `to`: a commit, or a release `vN`), no rebuild',
          params: appNameParam,
          body: body([], { env: ENV, to: ROLLBACK_TO }),
          response: { 202: open({ rolloutId: STR, env: STR, from: STR, to: STR }) },
        },
      },
      async (req, reply) =>
        reply
          .status(202)
          .send(await rollback(deps, { app: req.params.app, ...req.body, actor: actor(req) })),
    );

    write.post<AppReq<{ from: string; to: string }>>(
      '/api/apps/:app/promote',
      {
        // Both ends are environments the token must be allowed.
        config: { access: { envFields: ['from', 'to'] } },
        schema: {
          tags: TAGS,
          summary: 'Deploy the exact image one environment runs to another; never rebuilds',
          params: appNameParam,
          body: body(['from', 'to'], { from: ENV, to: ENV }),
          response: QUEUED,
        },
      },
      async (req, reply) =>
        reply
          .status(202)
          .send(await promote(deps, { app: req.params.app, ...req.body, actor: actor(req) })),
    );

    write.post<AppReq<{ env?: string; reason: string; until?: string }>>(
      '/api/apps/:app/lock',
      {
        schema: {
          tags: TAGS,
          summary: 'Freeze deploys to an environment (rollbacks still pass)',
          params: appNameParam,
          body: body(['reason'], {
            env: ENV,
            reason: { type: 'string', minLength: 1, maxLength: 500 },
            until: {
              type: 'string',
              maxLength: 64,
              description: 'ISO time, or a duration from now: 30m, 2h, 1d',
            },
          }),
        },
      },
      async (req) => {
        const { lock: l } = await lock(deps, {
          app: req.params.app,
          ...req.body,
          actor: actor(req),
        });
        return { lock: l };
      },
    );

    write.post<AppReq<{ env?: string } | undefined>>(
      '/api/apps/:app/unlock',
      {
        // Lifting a freeze is not every deployer's call (tokens[].permissions).
        config: { access: { role: 'deployer', permission: 'unlock' } },
        schema: {
          tags: TAGS,
          summary: 'Lift a deploy freeze',
          params: appNameParam,
          body: body([], { env: ENV }),
        },
      },
      async (req) => {
        await unlock(deps, { app: req.params.app, env: req.body?.env, actor: actor(req) });
        return {};
      },
    );

    write.post<AppReq<{ env?: string } | undefined>>(
      '/api/apps/:app/unpin',
      {
        schema: {
          tags: TAGS,
          summary: "End a rollback's pin; the branch's newest revision deploys if it differs",
          params: appNameParam,
          body: body([], { env: ENV }),
        },
      },
      async (req) => {
        const r = await unpin(deps, { app: req.params.app, env: req.body?.env, actor: actor(req) });
        return r.rolloutId ? { rolloutId: r.rolloutId, sha: r.sha } : {};
      },
    );

    write.post<AppReq<{ env: string; force?: boolean }>>(
      '/api/apps/:app/prune',
      {
        schema: {
          tags: TAGS,
          summary:
            'Remove an orphaned environment: stop and remove its instances, remove its edge route, forget it',
          description:
            'Refused with 409 GANTRY_ERR_NOT_ORPHANED unless the reconciler marked the environment orphaned (`force: true` overrides, and the timeline says so), and with 409 GANTRY_ERR_ENV_BUSY while a rollout holds it.',
          params: appNameParam,
          body: body(['env'], { env: ENV, force: { type: 'boolean' } }),
          response: {
            200: open({
              app: STR,
              env: STR,
              instances: { type: 'integer' },
              route: { type: 'string', nullable: true },
              forced: { type: 'boolean' },
            }),
          },
        },
      },
      async (req) => prune(deps, { app: req.params.app, ...req.body, actor: actor(req) }),
    );

    write.post<{ Params: { id: string } }>(
      '/api/rollouts/:id/retry',
      {
        schema: {
          tags: ['rollouts'],
          summary: "Run a failed, aborted or superseded rollout's revision again",
          params: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string', pattern: '^r-[a-z0-9]+-[a-z0-9]+$' } },
          },
        },
      },
      async (req, reply) => {
        await loadRollout(deps.rollouts, req.params.id, req.principal);
        return reply
          .status(202)
          .send(await retry(deps, { rolloutId: req.params.id, actor: actor(req) }));
      },
    );
  });
}
