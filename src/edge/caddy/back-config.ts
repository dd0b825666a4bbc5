/**
 * The back tier's server for one route (pure): listens on the route's tier socket, balances over
 * the live upstreams, and holds the draining ones where Caddy keeps counting their requests.
 */
import type { RouteId, Upstream } from '../edge.js';
import type { JsonObject } from './json.js';
import { isJsonObject } from './json.js';
import {
  backServerId,
  drainHolderId,
  liveRouteId,
  retryRouteId,
  routeLoggerName,
  tierSocket,
} from './names.js';
import { UPSTREAM_HEADER } from './names.js';
import { DIAL_TIMEOUT, FAIL_DURATION, MAX_FAILS, TRY_DURATION, TRY_INTERVAL } from './policy.js';

/** What the back server says about a route's upstreams; derived from Caddy's config, not stored. */
export interface BackState {
  /** Where new requests go. */
  readonly live: readonly Upstream[];
  /** Removed from `live` and not yet drained. */
  readonly draining: readonly Upstream[];
}

export const EMPTY_BACK_STATE: BackState = { live: [], draining: [] };

/** The state after `setUpstreams(upstreams)`: whatever leaves `live` starts draining. */
export function withLive(current: BackState, upstreams: readonly Upstream[]): BackState {
  const live = [...new Set(upstreams)];
  const draining = [...new Set([...current.draining, ...current.live])].filter(
    (u) => !live.includes(u),
  );
  return { live, draining };
}

/** The state once `upstream` has drained: Caddy may forget it. */
export function withoutDraining(current: BackState, upstream: Upstream): BackState {
  return { live: current.live, draining: current.draining.filter((u) => u !== upstream) };
}

/** The whole back server for `routeId`; replacing it with one PATCH is one atomic config load. */
export function backServerConfig(edgeName: string, routeId: RouteId, state: BackState): JsonObject {
  const routes: JsonObject[] = [];
  if (state.draining.length > 0) {
    // Caddy 2.6 forgets an upstream's in-flight count the moment the config that named it is
    // replaced, while the requests themselves run on. Naming the draining upstreams in a route
    // that never matches keeps them in Caddy's upstream pool, so /reverse_proxy/upstreams keeps
    // reporting their `num_requests` until drain() sees zero and lets go.
    routes.push({
      '@id': drainHolderId(routeId),
      match: [{ not: [{}] }],
      handle: [{ handler: 'reverse_proxy', upstreams: state.draining.map((dial) => ({ dial })) }],
    });
  }
  if (state.live.length === 0) {
    routes.push({ '@id': liveRouteId(routeId), handle: [noUpstreams()] });
  } else {
    // Two handlers over the same upstreams (Caddy shares in-flight counts and failure marks
    // between them by address). Only requests without a body may be retried: Caddy 2.6 closes
    // the request body when a connect fails, so retrying a POST fails with "invalid Read on
    // closed Body" — and charges that failure to the healthy upstream it was retried on, which
    // can take every upstream out of rotation (caddyserver/caddy#5454, fixed only in 2.11).
    routes.push({
      '@id': retryRouteId(routeId),
      match: [{ method: [...RETRYABLE_METHODS] }],
      handle: [UPSTREAM_TO_LOG, liveProxy(state.live, true)],
    });
    routes.push({
      '@id': liveRouteId(routeId),
      handle: [UPSTREAM_TO_LOG, liveProxy(state.live, false)],
    });
  }
  return {
    '@id': backServerId(routeId),
    listen: [tierSocket(edgeName, routeId)],
    automatic_https: { disable: true },
    logs: { default_logger_name: routeLoggerName(routeId) },
    routes,
  };
}

/**
 * Puts the upstream that answered into the access log's `user_id` field (renamed `upstream` by
 * log-config.ts), so the log can drop every response header. Caddy 2.6 logs `user_id` from the
 * `http.auth.user.id` placeholder, which no handler of ours sets otherwise; the map handler
 * defines it lazily, so it is read when the request is logged, after the proxy chose.
 */
export const UPSTREAM_TO_LOG: JsonObject = {
  handler: 'map',
  source: '{http.reverse_proxy.upstream.hostport}',
  destinations: ['{http.auth.user.id}'],
  mappings: [],
  defaults: ['{http.reverse_proxy.upstream.hostport}'],
};

/** Methods whose requests carry no body in practice, and so survive Caddy 2.6's retries. */
export const RETRYABLE_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;

function liveProxy(live: readonly Upstream[], retry: boolean): JsonObject {
  return {
    handler: 'reverse_proxy',
    upstreams: live.map((dial) => ({ dial })),
    load_balancing: {
      selection_policy: { policy: 'round_robin' },
      // With retries, a try that fails to connect moves on to another upstream, and so does a
      // GET that fails after it was sent (Caddy's default; the app may have acted on others).
      ...(retry ? { try_duration: TRY_DURATION, try_interval: TRY_INTERVAL } : {}),
    },
    health_checks: { passive: { fail_duration: FAIL_DURATION, max_fails: MAX_FAILS } },
    transport: { protocol: 'http', dial_timeout: DIAL_TIMEOUT },
    headers: {
      request: {
        // The front already set these from the real client; a request arriving over a Unix
        // socket has no client address, and Caddy would drop them.
        set: {
          'X-Forwarded-For': ['{http.request.header.X-Forwarded-For}'],
          'X-Forwarded-Proto': ['{http.request.header.X-Forwarded-Proto}'],
          'X-Forwarded-Host': ['{http.request.header.X-Forwarded-Host}'],
        },
      },
      // Names the upstream to whoever reads the back directly (debugging); the front strips it.
      response: { set: { [UPSTREAM_HEADER]: ['{http.reverse_proxy.upstream.hostport}'] } },
    },
  };
}

// An empty upstream list would make every request wait TRY_DURATION, then fail with 502.
function noUpstreams(): JsonObject {
  return {
    handler: 'static_response',
    status_code: 503,
    headers: { 'Retry-After': ['5'] },
    body: 'no instance is serving this route yet\n',
  };
}

/** Reads the state back from a back server's config as Caddy returns it; tolerant of shape. */
export function backStateOf(routeId: RouteId, server: unknown): BackState {
  if (!isJsonObject(server) || !Array.isArray(server.routes)) return EMPTY_BACK_STATE;
  let live: Upstream[] = [];
  let draining: Upstream[] = [];
  for (const route of server.routes) {
    if (!isJsonObject(route)) continue;
    if (route['@id'] === liveRouteId(routeId)) live = dialsOf(route);
    if (route['@id'] === drainHolderId(routeId)) draining = dialsOf(route);
  }
  return { live, draining };
}

function dialsOf(route: JsonObject): Upstream[] {
  const dials: Upstream[] = [];
  const handlers = Array.isArray(route.handle) ? route.handle : [];
  for (const h of handlers) {
    if (!isJsonObject(h) || h.handler !== 'reverse_proxy' || !Array.isArray(h.upstreams)) continue;
    for (const u of h.upstreams) {
      if (isJsonObject(u) && typeof u.dial === 'string') dials.push(u.dial);
    }
  }
  return dials;
}
