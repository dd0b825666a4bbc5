/**
 * The front tier's server for one listener (pure): the routes that share it, matched by Host,
 * each proxying to its route's back server over a Unix socket.
 */
import { GantryError } from '../../errors.js';
import type { RouteId } from '../edge.js';
import { isJsonObject, type JsonObject } from './json.js';
import {
  UNROUTED_LOGGER_NAME,
  UPSTREAM_HEADER,
  frontRouteId,
  frontServerId,
  routeLoggerName,
  routeOfFrontRouteId,
  tierSocket,
} from './names.js';
import { TRY_DURATION, TRY_INTERVAL } from './policy.js';

/** A route as its front listener knows it. */
export interface FrontRoute {
  readonly id: RouteId;
  readonly domain?: string;
}

export interface Listen {
  readonly host: string;
  readonly port: number;
}

/**
 * The listener's routes with `route` added or replaced. Two routes on one listener must differ
 * by domain, and only one may take every Host.
 */
export function withFrontRoute(routes: readonly FrontRoute[], route: FrontRoute): FrontRoute[] {
  const others = routes.filter((r) => r.id !== route.id);
  const clash = others.find((r) => (r.domain ?? '') === (route.domain ?? ''));
  if (clash !== undefined) {
    const what = route.domain === undefined ? 'all hosts' : `host ${route.domain}`;
    throw new GantryError(
      'GANTRY_ERR_EDGE_REJECTED',
      `route ${route.id} cannot take ${what}: route ${clash.id} already does on this listener`,
    );
  }
  return [...others, route];
}

/** The whole front server for `listen`; `routes` must be non-empty. */
export function frontServerConfig(
  edgeName: string,
  listen: Listen,
  routes: readonly FrontRoute[],
): JsonObject {
  // Host routes first (most specific wins), then the one catch-all if any, else a 404 so that an
  // unknown Host does not get Caddy's default empty 200.
  const byDomain = routes
    .filter((r): r is FrontRoute & { domain: string } => r.domain !== undefined)
    .sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  const catchAll = routes.find((r) => r.domain === undefined);
  const caddyRoutes: JsonObject[] = byDomain.map((r) => ({
    '@id': frontRouteId(r.id),
    match: [{ host: [r.domain] }],
    handle: [toBack(edgeName, r.id)],
  }));
  caddyRoutes.push(
    catchAll !== undefined
      ? { '@id': frontRouteId(catchAll.id), handle: [toBack(edgeName, catchAll.id)] }
      : {
          handle: [
            { handler: 'static_response', status_code: 404, body: 'no route for this host\n' },
          ],
        },
  );
  return {
    '@id': frontServerId(listen),
    listen: [`${listen.host}:${listen.port}`],
    // No certificates, no redirect listener on :80: TLS is not this listener's business (yet).
    automatic_https: { disable: true },
    logs: {
      default_logger_name:
        catchAll !== undefined ? routeLoggerName(catchAll.id) : UNROUTED_LOGGER_NAME,
      logger_names: Object.fromEntries(byDomain.map((r) => [r.domain, routeLoggerName(r.id)])),
    },
    routes: caddyRoutes,
  };
}

/** The front handler that passes a request to its route's back server (plain and HTTPS listeners). */
export function toBack(edgeName: string, routeId: RouteId): JsonObject {
  return {
    handler: 'reverse_proxy',
    upstreams: [{ dial: tierSocket(edgeName, routeId) }],
    // A fresh connection per request: reloading the back closes its idle connections, and a
    // request written into one of them at that instant would fail. Over a Unix socket a connect
    // costs microseconds and leaves no TIME_WAIT behind.
    transport: { protocol: 'http', keep_alive: { enabled: false } },
    // Rides out a restart of the back process: connects are refused, and retried.
    load_balancing: { try_duration: TRY_DURATION, try_interval: TRY_INTERVAL },
    headers: { response: { delete: [UPSTREAM_HEADER] } },
  };
}

/** The routes in a front server's config as Caddy returns it; tolerant of shape. */
export function frontRoutesOf(server: unknown): FrontRoute[] {
  if (!isJsonObject(server) || !Array.isArray(server.routes)) return [];
  const routes: FrontRoute[] = [];
  for (const r of server.routes) {
    if (!isJsonObject(r) || typeof r['@id'] !== 'string') continue;
    const id = routeOfFrontRouteId(r['@id']);
    if (id === undefined) continue;
    const domain = domainOf(r);
    routes.push(domain === undefined ? { id } : { id, domain });
  }
  return routes;
}

function domainOf(route: JsonObject): string | undefined {
  const match = Array.isArray(route.match) ? route.match[0] : undefined;
  const hosts = isJsonObject(match) && Array.isArray(match.host) ? match.host : [];
  return typeof hosts[0] === 'string' ? hosts[0] : undefined;
}

/** The listener a front server's config listens on, e.g. from `127.0.0.1:8080`. */
export function listenOf(server: unknown): Listen | undefined {
  if (!isJsonObject(server) || !Array.isArray(server.listen)) return undefined;
  const addr = server.listen[0];
  const m = typeof addr === 'string' ? /^(.*):(\d+)$/.exec(addr) : null;
  return m?.[1] !== undefined && m[2] !== undefined
    ? { host: m[1], port: Number(m[2]) }
    : undefined;
}
