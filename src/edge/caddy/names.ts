/**
 * Every name the Caddy edge puts into Caddy's config, sockets and logs, in one place: the edge
 * finds its routes again by these names after a restart, so they must never drift.
 */
import { join } from 'node:path';
import type { RouteId } from '../edge.js';

/** The two Caddy processes: clients meet `front`; `back` holds upstream lists (see caddy-edge.ts). */
export type Tier = 'front' | 'back';

/** Access loggers are `http.log.access.<server logger name>`; ours all sit under this namespace. */
export const ACCESS_LOG_NAMESPACE = 'http.log.access.gantry';

/** The logger name a route's requests are logged under (the server's `logs` config value). */
export function routeLoggerName(routeId: RouteId): string {
  return `gantry.${routeId}`;
}

/** Requests on a front listener whose Host matches no route; `_` cannot occur in a route id. */
export const UNROUTED_LOGGER_NAME = 'gantry._unrouted';

/** The route id in an access logger's name, or undefined for other loggers. */
export function routeOfLogger(logger: string): RouteId | undefined {
  const prefix = `${ACCESS_LOG_NAMESPACE}.`;
  if (!logger.startsWith(prefix)) return undefined;
  const id = logger.slice(prefix.length);
  return id.startsWith('_') ? undefined : id;
}

/** The custom log (in Caddy's `logging.logs`) that writes our access logs to a file. */
export const EDGE_LOG_NAME = 'gantry-edge';

/** Where a tier's access log goes. */
export function accessLogFile(logDir: string, tier: Tier): string {
  return join(logDir, `${tier}-access.log`);
}

/** Response header the back sets to the upstream that answered; the front strips it. */
export const UPSTREAM_HEADER = 'X-Gantry-Upstream';

/** The back tier's access-log field that names the upstream that answered (log-config.ts). */
export const UPSTREAM_LOG_FIELD = 'upstream';

/** Server key and `@id` of a front listener, e.g. `gantry-front-127_0_0_1-8080`. */
export function frontServerId(listen: { host: string; port: number }): string {
  return `gantry-front-${listen.host.replace(/[^A-Za-z0-9]/g, '_')}-${listen.port}`;
}

export const FRONT_SERVER_PREFIX = 'gantry-front-';

/**
 * Server key and `@id` of the front's HTTPS listener, shared by every route with `domains`, e.g.
 * `gantry-https-0_0_0_0-443`. One per edge: moving it to another port drops the old one.
 */
export function httpsServerId(listen: { host: string; port: number }): string {
  return `${HTTPS_SERVER_PREFIX}${listen.host.replace(/[^A-Za-z0-9]/g, '_')}-${listen.port}`;
}

export const HTTPS_SERVER_PREFIX = 'gantry-https-';

/** `@id` of a route's entry (its host names) in the HTTPS server's route list. */
export function domainRouteId(routeId: RouteId): string {
  return `gantry-domains-${routeId}`;
}

/** The route id in a domain route's `@id`, or undefined. */
export function routeOfDomainRouteId(id: string): RouteId | undefined {
  return id.startsWith('gantry-domains-') ? id.slice('gantry-domains-'.length) : undefined;
}

/** Caddy's internal certificate authority (`tls internal`), as the PKI app and admin API name it. */
export const INTERNAL_CA = 'local';

/**
 * Where the internal CA's root certificate lies in a tier's storage (`storage.root`): the file
 * clients must trust for `tls internal` names. Caddy also serves it on `GET /pki/ca/local`.
 */
export function caRootFile(storageRoot: string): string {
  return join(storageRoot, 'pki', 'authorities', INTERNAL_CA, 'root.crt');
}

/** `@id` of a route's entry in its front server's route list. */
export function frontRouteId(routeId: RouteId): string {
  return `gantry-route-${routeId}`;
}

/** The route id in a front route's `@id`, or undefined. */
export function routeOfFrontRouteId(id: string): RouteId | undefined {
  return id.startsWith('gantry-route-') ? id.slice('gantry-route-'.length) : undefined;
}

/** Server key and `@id` of a route's back server. */
export function backServerId(routeId: RouteId): string {
  return `gantry-back-${routeId}`;
}

/** `@id` of the back route that carries the other requests (and names the live upstreams). */
export function liveRouteId(routeId: RouteId): string {
  return `gantry-live-${routeId}`;
}

/** `@id` of the back route for requests that may be retried on another upstream. */
export function retryRouteId(routeId: RouteId): string {
  return `gantry-retry-${routeId}`;
}

/** `@id` of the back route that never matches and only holds draining upstreams. */
export function drainHolderId(routeId: RouteId): string {
  return `gantry-drain-${routeId}`;
}

/**
 * The Unix socket between the tiers, in Linux's abstract namespace (`@…`): no file to clean up,
 * no 108-byte path limit to hit under a deep state directory. The edge name keeps two Gantry
 * instances (or test runs) on one machine apart.
 */
export function tierSocket(edgeName: string, routeId: RouteId): string {
  return `unix/@gantry-${edgeName}-${routeId}`;
}
