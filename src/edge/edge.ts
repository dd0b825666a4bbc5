/**
 * The edge: the port the controller moves traffic through. A route is one app environment's
 * public entry point (`app-env`); its upstreams are the instances that serve it, as `host:port`.
 * Implementations: `caddy/` (Docker target), `kubernetes/` (a Service). The rollout calls, in
 * this order for each instance it replaces: `setUpstreams` with the new set, `drain` the old one,
 * then stop it — stopping before the drain resolves resets the requests still running on it.
 */

/** `app-env`: lower-case letters, digits and dashes; names sockets, log streams and config ids. */
export type RouteId = string;

/** `host:port` of an instance, e.g. `127.0.0.1:32768`. */
export type Upstream = string;

export interface RouteSpec {
  readonly id: RouteId;
  /** Where clients connect; routes may share a listener when each has its own `domain`. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Only requests with this Host header (any port) take the route; absent: every request. */
  readonly domain?: string;
  /**
   * Host names the route also answers on the edge's shared HTTPS listener (by SNI and Host), with
   * certificates the edge obtains and HTTP redirected to HTTPS. `listen` keeps serving alongside,
   * for clients without DNS. Absent or empty: none (names it had before are let go).
   */
  readonly domains?: readonly string[];
}

export interface DrainResult {
  /** True when nothing was in flight to the upstream for a quiet period; false on timeout. */
  readonly drained: boolean;
  /** Requests still in flight when the drain ended (0 when drained). */
  readonly inFlight: number;
  readonly waitedMs: number;
}

export interface TrafficCount {
  readonly requests: number;
  readonly errors5xx: number;
}

export interface RouteStats extends TrafficCount {
  /** Epoch ms the counts start from. */
  readonly since: number;
  /**
   * Responses each upstream produced (the attempt that answered the client). Responses the edge
   * made itself (no upstream available, all retries failed) count in the totals only.
   */
  readonly byUpstream: Readonly<Record<Upstream, TrafficCount>>;
}

export interface Edge {
  /** Creates or updates the route; keeps its upstreams. Repeating it unchanged touches nothing. */
  ensureRoute(route: RouteSpec): Promise<{ url: string }>;
  /**
   * Atomically replaces the route's upstreams. Requests already running on a removed upstream
   * run to completion; new ones go only to the new set.
   */
  setUpstreams(routeId: RouteId, upstreams: readonly Upstream[]): Promise<void>;
  /** The upstreams the route currently sends new requests to. */
  upstreams(routeId: RouteId): Promise<Upstream[]>;
  /**
   * Resolves once no request to `upstream` (already removed from the route) is in flight, or when
   * `timeoutMs` has passed — the result says which. `quietMs`: how long nothing must be in flight
   * before the edge believes it (default its own margin for requests caught in the switch; 0
   * when the caller already waited since the switch).
   */
  drain(
    routeId: RouteId,
    upstream: Upstream,
    opts: { timeoutMs: number; quietMs?: number },
  ): Promise<DrainResult>;
  /** Client-visible requests and 5xx answers since `since` (epoch ms; default: all retained). */
  stats(routeId: RouteId, since?: number): Promise<RouteStats>;
  /** Removes the route and stops its listener if no other route shares it. Absent: a no-op. */
  removeRoute(routeId: RouteId): Promise<void>;
  /**
   * The PEM root certificate that signs the edge's own certificates (`tls internal` names), for
   * clients to trust. Absent on edges that terminate no TLS.
   */
  internalCaRoot?(): Promise<string>;
}

const ROUTE_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const UPSTREAM = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** Whether `id` can name a route (it ends up in socket names and Caddy config ids). */
export function isRouteId(id: string): boolean {
  return ROUTE_ID.test(id);
}

/** Whether `u` is a `host:port` upstream with a port in range. */
export function isUpstream(u: string): boolean {
  const m = UPSTREAM.exec(u);
  const port = Number(m?.[1]);
  return m !== null && port > 0 && port < 65_536;
}

/** Sums the stats of some upstreams, e.g. the new revision's instances during the bake. */
export function trafficOf(stats: RouteStats, upstreams: readonly Upstream[]): TrafficCount {
  let requests = 0;
  let errors5xx = 0;
  for (const u of new Set(upstreams)) {
    const c = stats.byUpstream[u];
    if (c === undefined) continue;
    requests += c.requests;
    errors5xx += c.errors5xx;
  }
  return { requests, errors5xx };
}
