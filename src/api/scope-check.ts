/**
 * The environment half of the /api guard: once a request's query and body are parsed and
 * validated, the environments it names are checked against the token's scope (access.ts). A
 * route needs nothing to be covered: its `env` field (query or body) is found by name. A route
 * declares more with `config.access` — other fields that name environments (`promote`'s `from`
 * and `to`), a role or permission checked before parsing, or that it filters environments
 * itself when none is named (lists).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Permission, Role } from '../config/controller-config.js';
import { selectEnv } from '../deploy/operations/choices.js';
import type { AppRecord } from '../store/records.js';
import { authorize } from './access.js';
import { appOfParams } from './auth.js';

/** What a route declares about access, in its route options' `config.access`. */
export interface RouteAccess {
  /** Checked before parsing, with the token (the route's own requireRole still applies). */
  role?: Role | undefined;
  permission?: Permission | undefined;
  /** A view across every app: refused to tokens with an app scope. */
  unscoped?: boolean | undefined;
  /** Query or body fields that name an environment; default `['env']`. */
  envFields?: readonly string[] | undefined;
  /**
   * Without an environment named, the route answers for every environment the token sees (a
   * list, filtered by the handler). Otherwise, as the operations do, it acts on the app's only
   * environment, and that one is checked.
   */
  filtersEnvs?: boolean | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/** Looks an app up, to find the environment a request leaves to the default. */
export interface AppLookup {
  getApp(name: string): Promise<AppRecord | undefined>;
}

const DEFAULT_ENV_FIELDS = ['env'];

/** The access a request's route declares (none by default). */
export function routeAccess(req: FastifyRequest): RouteAccess {
  return req.routeOptions.config.access ?? {};
}

/** The string values of `fields` in a parsed query or body. */
export function namedValues(source: unknown, fields: readonly string[]): string[] {
  if (typeof source !== 'object' || source === null) return [];
  const rec = source as Record<string, unknown>;
  return fields.flatMap((f) => (typeof rec[f] === 'string' ? [rec[f]] : []));
}

/** Whether a route's body or query schema has any of `fields`: it may name an environment. */
function declaresEnv(schema: unknown, fields: readonly string[]): boolean {
  const s = schema as { body?: unknown; querystring?: unknown } | undefined;
  return [s?.body, s?.querystring].some((part) => {
    const props = (part as { properties?: Record<string, unknown> } | undefined)?.properties;
    return props !== undefined && fields.some((f) => f in props);
  });
}

/** Adds the `preHandler` hook that checks a parsed request's app and environments. */
export function registerScopeCheck(app: FastifyInstance, apps: AppLookup): void {
  app.addHook('preHandler', async (req) => {
    // Set by the guard on /api routes only; other routes have no scope to check.
    const who = req.principal;
    if (!who) return;
    const access = routeAccess(req);
    const fields = access.envFields ?? DEFAULT_ENV_FIELDS;
    const appName = appOfParams(req.params) ?? namedValues(req.query, ['app'])[0];
    const envs = [...namedValues(req.query, fields), ...namedValues(req.body, fields)];
    if (
      envs.length === 0 &&
      who.envs !== undefined &&
      appName !== undefined &&
      !access.filtersEnvs &&
      declaresEnv(req.routeOptions.schema, fields)
    ) {
      // Left to the default, the operation acts on the app's only environment: check that one,
      // or ask for a name just as the operation would.
      const rec = await apps.getApp(appName);
      if (rec) envs.push(selectEnv(Object.keys(rec.environments), undefined));
    }
    authorize(who, { app: appName, envs });
  });
}
