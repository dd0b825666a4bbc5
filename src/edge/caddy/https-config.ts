/**
 * The front tier's HTTPS side (pure): one listener on `httpsPort`, shared by every route that has
 * `domains` and told apart by SNI and Host. Caddy's automatic HTTPS stays on for that server
 * only, so Caddy gets and renews a certificate for each name and answers `httpPort` with a
 * redirect to HTTPS (and with ACME HTTP-01 challenges). Which issuer signs a name is decided
 * here, by `issuerOf`, and written as TLS automation policies: left to its defaults, Caddy 2.6
 * would ask a public CA for names like `shop.test` that no public CA will ever sign.
 */
import { isIP } from 'node:net';
import { GantryError } from '../../errors.js';
import type { RouteId } from '../edge.js';
import { toBack } from './front-config.js';
import { isJsonObject, type JsonObject } from './json.js';
import {
  HTTPS_SERVER_PREFIX,
  INTERNAL_CA,
  UNROUTED_LOGGER_NAME,
  domainRouteId,
  httpsServerId,
  routeLoggerName,
  routeOfDomainRouteId,
} from './names.js';

/** `auto`: local names get Caddy's internal CA, public ones ACME. `internal`: every name the internal CA. */
export type TlsMode = 'auto' | 'internal';

/** Where and how the edge serves `domains`; one setting for the whole edge. */
export interface HttpsOptions {
  /** The address both listeners bind, e.g. `0.0.0.0`. */
  readonly host: string;
  /** Redirects to HTTPS and ACME HTTP-01 challenges. */
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly tls: TlsMode;
  /** For ACME names: the account's email, and a directory URL other than Let's Encrypt's. */
  readonly acme?: { readonly email?: string | undefined; readonly ca?: string | undefined };
}

export const DEFAULT_HTTPS: HttpsOptions = {
  host: '127.0.0.1',
  httpPort: 80,
  httpsPort: 443,
  tls: 'auto',
};

/** A route as the HTTPS listener knows it: its host names, lower-case, sorted. */
export interface DomainRoute {
  readonly id: RouteId;
  readonly domains: readonly string[];
}

export type Issuer = 'internal' | 'acme';

/**
 * Names no public CA signs: special-use and reserved names (RFC 6761 and 2606: `localhost`,
 * `test`, `example`, `invalid`; `local` for mDNS, `home.arpa`, `internal`), and IP addresses.
 */
const LOCAL_SUFFIXES = [
  'localhost',
  'test',
  'example',
  'invalid',
  'local',
  'internal',
  'home.arpa',
];

/** Whether `name` is a local name (see LOCAL_SUFFIXES); such names always get `tls internal`. */
export function isLocalName(name: string): boolean {
  if (isIP(name) !== 0) return true;
  return LOCAL_SUFFIXES.some((s) => name === s || name.endsWith(`.${s}`));
}

/** Who signs `name`'s certificate. */
export function issuerOf(name: string, mode: TlsMode): Issuer {
  return mode === 'internal' || isLocalName(name) ? 'internal' : 'acme';
}

/**
 * The HTTPS routes with `route`'s names replaced (none: the route leaves). A host name belongs to
 * one route: a second route asking for it is refused, whatever app it belongs to.
 */
export function withDomainRoute(routes: readonly DomainRoute[], route: DomainRoute): DomainRoute[] {
  const others = routes.filter((r) => r.id !== route.id);
  const domains = [...new Set(route.domains.map((d) => d.toLowerCase()))].sort();
  for (const d of domains) {
    const clash = others.find((r) => r.domains.includes(d));
    if (clash !== undefined) {
      throw new GantryError(
        'GANTRY_ERR_EDGE_REJECTED',
        `route ${route.id} cannot take host ${d}: route ${clash.id} already does`,
      );
    }
  }
  return domains.length === 0 ? others : [...others, { id: route.id, domains }];
}

/** The HTTPS server for `routes` (non-empty). */
export function httpsServerConfig(
  edgeName: string,
  opts: HttpsOptions,
  routes: readonly DomainRoute[],
): JsonObject {
  // Sorted by id: re-ensuring an unchanged route must produce the same config, or Caddy reloads.
  const sorted = [...routes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const listen = { host: opts.host, port: opts.httpsPort };
  return {
    '@id': httpsServerId(listen),
    listen: [`${listen.host}:${listen.port}`],
    // TLS on every connection; the certificate is chosen by SNI from those Caddy manages.
    tls_connection_policies: [{}],
    logs: {
      default_logger_name: UNROUTED_LOGGER_NAME,
      logger_names: Object.fromEntries(
        sorted.flatMap((r) => r.domains.map((d) => [d, routeLoggerName(r.id)])),
      ),
    },
    routes: [
      ...sorted.map((r) => ({
        '@id': domainRouteId(r.id),
        match: [{ host: [...r.domains] }],
        handle: [toBack(edgeName, r.id)],
      })),
      // A name with a certificate but no route (a removal under way): 404, not Caddy's empty 200.
      {
        handle: [
          { handler: 'static_response', status_code: 404, body: 'no route for this host\n' },
        ],
      },
    ],
  };
}

/** The TLS app: which issuer signs which names (undefined: no names, no TLS app). */
export function tlsAppConfig(
  opts: HttpsOptions,
  routes: readonly DomainRoute[],
): JsonObject | undefined {
  const names = [...new Set(routes.flatMap((r) => r.domains))].sort();
  if (names.length === 0) return undefined;
  const internal = names.filter((n) => issuerOf(n, opts.tls) === 'internal');
  const acme = names.filter((n) => issuerOf(n, opts.tls) === 'acme');
  const { email, ca } = opts.acme ?? {};
  const acmeIssuer: JsonObject | undefined =
    email === undefined && ca === undefined
      ? undefined
      : {
          module: 'acme',
          ...(ca === undefined ? {} : { ca }),
          ...(email === undefined ? {} : { email }),
        };
  const policies: JsonObject[] = [];
  if (internal.length > 0) {
    policies.push({ subjects: internal, issuers: [{ module: 'internal', ca: INTERNAL_CA }] });
  }
  if (acme.length > 0) {
    // Without settings, Caddy's default issuers: Let's Encrypt, then ZeroSSL.
    policies.push({ subjects: acme, ...(acmeIssuer ? { issuers: [acmeIssuer] } : {}) });
  }
  return { automation: { policies } };
}

/**
 * The PKI app: Caddy's internal CA, whose root must never be installed into this machine's trust
 * store (Caddy's default would try, with sudo): clients are given the root explicitly.
 */
export function pkiAppConfig(): JsonObject {
  return { certificate_authorities: { [INTERNAL_CA]: { install_trust: false } } };
}

/**
 * The front's whole `apps` with its HTTPS side rebuilt for `routes`: the HTTPS server (dropped
 * from any other port it was on), `http_port`, and the TLS app. With no routes, the HTTPS side
 * is removed and an edge that never had domains is left exactly as it was.
 */
export function withHttps(
  apps: unknown,
  edgeName: string,
  opts: HttpsOptions,
  routes: readonly DomainRoute[],
): JsonObject {
  const current: JsonObject = isJsonObject(apps) ? { ...apps } : {};
  const http: JsonObject = isJsonObject(current.http) ? { ...current.http } : {};
  const servers: JsonObject = isJsonObject(http.servers) ? { ...http.servers } : {};
  for (const id of Object.keys(servers)) {
    if (id.startsWith(HTTPS_SERVER_PREFIX)) delete servers[id];
  }
  delete http.http_port;
  delete current.tls;
  const tls = tlsAppConfig(opts, routes);
  if (routes.length > 0 && tls !== undefined) {
    const server = httpsServerConfig(edgeName, opts, routes);
    servers[String(server['@id'])] = server;
    // Where Caddy's automatic HTTPS puts its redirects (and HTTP-01 answers). `https_port` stays
    // 443: Caddy writes the listener's port into the redirect only when it differs from that.
    http.http_port = opts.httpPort;
    current.tls = tls;
  }
  return { ...current, http: { ...http, servers } };
}

/** The HTTPS routes in the front's `apps` as Caddy returns them; tolerant of shape. */
export function domainRoutesOf(apps: unknown): DomainRoute[] {
  const http = isJsonObject(apps) ? apps.http : undefined;
  const servers = isJsonObject(http) && isJsonObject(http.servers) ? http.servers : {};
  const routes: DomainRoute[] = [];
  for (const [id, server] of Object.entries(servers)) {
    if (!id.startsWith(HTTPS_SERVER_PREFIX) || !isJsonObject(server)) continue;
    if (!Array.isArray(server.routes)) continue;
    for (const r of server.routes) {
      if (!isJsonObject(r) || typeof r['@id'] !== 'string') continue;
      const routeId = routeOfDomainRouteId(r['@id']);
      const match = Array.isArray(r.match) ? r.match[0] : undefined;
      const hosts = isJsonObject(match) && Array.isArray(match.host) ? match.host : [];
      const domains = hosts.filter((h): h is string => typeof h === 'string');
      if (routeId !== undefined && domains.length > 0) routes.push({ id: routeId, domains });
    }
  }
  return routes;
}
