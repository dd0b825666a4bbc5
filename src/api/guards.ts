import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { currentOf } from '../config/live-config.js';
import { GantryError } from '../errors.js';
import type { RateLimits } from '../store/rate-limits.js';
import { authorize } from './access.js';
import { authenticate, appOfParams, type Principal, type TokenSource } from './auth.js';
import { registerScopeCheck, routeAccess, type AppLookup } from './scope-check.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The origin (`scheme://host[:port]`) of a URL, or undefined when it is not one. */
export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether a request may change state given its Origin header. Requests without one (the CLI,
 * curl, forges) pass: the check only concerns browsers, which always send it on such requests.
 * A browser page may call only from the controller's own origin (as the request reached it, or
 * the configured public URL behind a proxy).
 */
export function originAllowed(
  origin: string | undefined,
  own: { protocol: string; host: string | undefined },
  publicOrigin: string | undefined,
): boolean {
  if (origin === undefined) return true;
  const claimed = originOf(origin);
  if (!claimed) return false;
  if (publicOrigin && claimed === publicOrigin) return true;
  return own.host !== undefined && claimed === originOf(`${own.protocol}://${own.host}`);
}

/** Whether a matched route is part of the token-guarded API, by its pattern (never the raw URL). */
export function isApiRoute(routeUrl: string | undefined): boolean {
  return routeUrl !== undefined && (routeUrl === '/api' || routeUrl.startsWith('/api/'));
}

/**
 * Whose bucket a request draws on: the authenticated token's name, else the client's address
 * (an IPv6 client by its /64, which one host usually holds whole). Never the header itself, so
 * junk tokens all land in their sender's address bucket instead of a fresh one each.
 */
export function rateSubject(who: Pick<Principal, 'name'> | undefined, ip: string): string {
  return who ? `token:${who.name}` : `addr:${normalizeIP(ip)}`;
}

export interface GuardOptions {
  publicUrl?: string | undefined;
  rateLimit: { max: number; timeWindowMs: number };
}

/** The bucket scope of /api requests in {@link RateLimits}. */
export const API_SCOPE = 'api';

/**
 * The guard of every /api route, one `onRequest` hook run before anything is parsed. Which
 * routes it guards is decided by the matched route, so `/%61pi/apps` (which routes to
 * `/api/apps`) is guarded exactly like `/api/apps`. In order:
 * 1. Origin check on state-changing requests (CSRF defence in depth, 403). Tokens travel in the
 *    Authorization header, never in cookies, so a foreign page cannot make the browser attach
 *    them; refusing foreign origins before auth also covers any future cookie-based login.
 * 2. Rate limit (429 with Retry-After), per token name once the token is known, per address
 *    before: so failed logins are counted too, against their sender. The buckets live in Redis.
 * 3. Authentication (401), before the body or query is read; each route still checks the role.
 *    The app the path names is checked against the token's scope here too (404 outside it), and
 *    the environments the query or body names once they are parsed (scope-check.ts).
 * Webhooks (signed; failed signatures have their own limit), /healthz, /metrics and /docs are
 * not /api routes and are not counted here.
 */
export async function registerGuards(
  app: FastifyInstance,
  opts: GuardOptions & { tokens: TokenSource; limits: RateLimits; store: AppLookup },
): Promise<void> {
  const publicOrigin = opts.publicUrl ? originOf(opts.publicUrl) : undefined;
  const limit = { max: opts.rateLimit.max, windowMs: opts.rateLimit.timeWindowMs };
  app.addHook('onRequest', async (req, reply) => {
    if (!isApiRoute(req.routeOptions.url)) return;
    if (STATE_CHANGING.has(req.method)) {
      const origin = req.headers.origin;
      const own = { protocol: req.protocol, host: req.headers.host };
      if (!originAllowed(origin, own, publicOrigin)) {
        throw new GantryError(
          'GANTRY_ERR_ORIGIN_REJECTED',
          `requests from ${origin} may not change state here; use the controller's own UI or the CLI`,
        );
      }
    }
    const who = authenticate(currentOf(opts.tokens), req.headers.authorization);
    const verdict = await opts.limits
      .take(API_SCOPE, rateSubject(who, req.ip), limit)
      .catch((err: unknown) => {
        // Without Redis the API has little left to protect; refusing everything would only
        // hide the real error the route is about to give.
        req.log.warn({ err: String(err) }, 'rate limit unavailable; request let through');
        return undefined;
      });
    if (verdict) {
      reply.header('x-ratelimit-limit', limit.max);
      reply.header('x-ratelimit-remaining', verdict.remaining);
    }
    if (verdict && !verdict.allowed) {
      const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      reply.header('retry-after', seconds);
      throw new GantryError(
        'GANTRY_ERR_RATE_LIMITED',
        `more than ${limit.max} requests in ${Math.round(limit.windowMs / 1000)} s ${who ? `for token ${who.name}` : 'from this address without a valid token'}; retry after ${seconds} s`,
      );
    }
    // The app the path names and the route's declared role and permission, before any parsing:
    // an app outside the token's scope is a 404 whatever else the request says.
    const access = routeAccess(req);
    req.principal = authorize(who, {
      app: appOfParams(req.params),
      role: access.role,
      permission: access.permission,
      unscoped: access.unscoped,
    });
  });
  registerScopeCheck(app, opts.store);
}
