/**
 * The Edge on Caddy, driven through its admin API. Two Caddy processes, because every change to a
 * Caddy 2.6 config — even one upstream of one route — reloads every server in the process, and a
 * reload closes the idle keep-alive connections of all of them: a client that sent its next
 * request on such a connection at that instant gets a reset (measured: a few per switch at 300
 * req/s). So:
 *   - the front Caddy owns the client-facing listeners and changes only when routes are added or
 *     removed; each route proxies to
 *   - the back Caddy, one server per route on a Unix socket, which holds the upstream lists and
 *     reloads on every `setUpstreams`. The front opens a fresh socket connection per request,
 *     so the back has no idle connection to close under it.
 * Routes with `domains` also get a route on the front's one HTTPS listener, where Caddy manages
 * their certificates (https-config.ts); that too changes only when names are added or removed.
 * Caddy's config is the only state: every call reads what it needs back from Caddy, so a
 * restarted controller picks up where the last one stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GantryError } from '../../errors.js';
import {
  isRouteId,
  isUpstream,
  type DrainResult,
  type Edge,
  type RouteId,
  type RouteSpec,
  type RouteStats,
  type Upstream,
} from '../edge.js';
import { LogFollower } from './access-log.js';
import { adminClient, isConflict, type AdminClient } from './admin-client.js';
import {
  EMPTY_BACK_STATE,
  backServerConfig,
  backStateOf,
  withLive,
  withoutDraining,
  type BackState,
} from './back-config.js';
import {
  frontRoutesOf,
  frontServerConfig,
  listenOf,
  withFrontRoute,
  type FrontRoute,
} from './front-config.js';
import {
  DEFAULT_HTTPS,
  domainRoutesOf,
  pkiAppConfig,
  withDomainRoute,
  withHttps,
  type HttpsOptions,
} from './https-config.js';
import { canonicalJson, isJsonObject, type JsonObject } from './json.js';
import { accessLogConfig } from './log-config.js';
import {
  EDGE_LOG_NAME,
  FRONT_SERVER_PREFIX,
  INTERNAL_CA,
  accessLogFile,
  backServerId,
  frontServerId,
  tierSocket,
  type Tier,
} from './names.js';
import { DRAIN_POLL_MS, DRAIN_QUIET_MS } from './policy.js';
import { TrafficLedger } from './traffic-ledger.js';

export interface CaddyEdgeOptions {
  /** Admin API of the Caddy that clients connect to, e.g. `http://127.0.0.1:2019`. */
  readonly frontAdminUrl: string;
  /** Admin API of the Caddy that holds the upstream lists. */
  readonly backAdminUrl: string;
  /** Where both Caddy processes write their access logs; this process reads them for `stats`. */
  readonly logDir: string;
  /** Keeps this edge's sockets apart from another's on the same machine. Default `gantry`. */
  readonly name?: string;
  /** How long `stats` remembers requests. Default one hour. */
  readonly retentionMs?: number;
  /** The shared listeners of routes with `domains`. Default 127.0.0.1, :80 and :443, `auto`. */
  readonly https?: HttpsOptions;
}

const APPS = '/config/apps';
const SERVERS = `${APPS}/http/servers`;

/** Writes refused because the config changed under us are recomputed this many times. */
const CONFLICT_RETRIES = 10;

export class CaddyEdge implements Edge {
  private readonly name: string;
  private readonly clients: Readonly<Record<Tier, AdminClient>>;
  private readonly logs: Readonly<Record<Tier, LogFollower>>;
  private readonly ledger: TrafficLedger;
  private readonly https: HttpsOptions;
  private setup: Promise<void> | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly opts: CaddyEdgeOptions) {
    this.name = opts.name ?? 'gantry';
    if (!isRouteId(this.name))
      throw rejected(`edge name ${JSON.stringify(this.name)} is not [a-z0-9-]`);
    this.clients = { front: adminClient(opts.frontAdminUrl), back: adminClient(opts.backAdminUrl) };
    this.logs = {
      front: new LogFollower(accessLogFile(opts.logDir, 'front')),
      back: new LogFollower(accessLogFile(opts.logDir, 'back')),
    };
    this.ledger = new TrafficLedger(opts.retentionMs);
    this.https = opts.https ?? DEFAULT_HTTPS;
  }

  async ensureRoute(route: RouteSpec): Promise<{ url: string }> {
    checkRoute(this.name, route);
    // Checked again on every ensure (a few GETs): a restarted Caddy comes back without it.
    this.setup = undefined;
    await this.ready();
    // Back first: the front route dials the back's socket.
    await this.updateServer('back', backServerId(route.id), (current) =>
      backServerConfig(
        this.name,
        route.id,
        current === undefined ? EMPTY_BACK_STATE : backStateOf(route.id, current),
      ),
    );
    const entry: FrontRoute = {
      id: route.id,
      ...(route.domain === undefined ? {} : { domain: route.domain.toLowerCase() }),
    };
    const targetId = frontServerId(route.listen);
    await this.updateServer('front', targetId, (current) =>
      frontServerConfig(this.name, route.listen, withFrontRoute(frontRoutesOf(current), entry)),
    );
    // Moved to another listener: the old one lets go only now, so the route is never unserved.
    for (const id of await this.frontServerIds()) {
      if (id !== targetId) await this.dropFrontRoute(id, route.id);
    }
    // The HTTPS side last, with the route's back and listener in place: a name that answers
    // must have somewhere to go. Unchanged names write nothing (no front reload).
    const domains = (route.domains ?? []).map((d) => d.toLowerCase());
    await this.updateDomains(route.id, domains);
    const first = domains[0];
    if (first !== undefined) {
      const port = this.https.httpsPort === 443 ? '' : `:${this.https.httpsPort}`;
      return { url: `https://${first}${port}` };
    }
    const host =
      route.domain ?? (route.listen.host === '0.0.0.0' ? '127.0.0.1' : route.listen.host);
    return { url: `http://${host}:${route.listen.port}` };
  }

  async setUpstreams(routeId: RouteId, upstreams: readonly Upstream[]): Promise<void> {
    const bad = upstreams.find((u) => !isUpstream(u));
    if (bad !== undefined) throw rejected(`upstream ${JSON.stringify(bad)} is not host:port`);
    await this.updateServer('back', backServerId(routeId), (current) => {
      if (current === undefined) throw noRoute(routeId);
      return backServerConfig(
        this.name,
        routeId,
        withLive(backStateOf(routeId, current), upstreams),
      );
    });
  }

  async upstreams(routeId: RouteId): Promise<Upstream[]> {
    return [...(await this.backState(routeId)).live];
  }

  async drain(
    routeId: RouteId,
    upstream: Upstream,
    opts: { timeoutMs: number; quietMs?: number },
  ): Promise<DrainResult> {
    const started = Date.now();
    const quietMs = opts.quietMs ?? DRAIN_QUIET_MS;
    const state = await this.backState(routeId);
    if (state.live.includes(upstream)) {
      throw rejected(`cannot drain ${upstream}: route ${routeId} still sends it requests`);
    }
    // Not held: never routed, or drained and let go before (drain is safe to repeat).
    if (!state.draining.includes(upstream)) return { drained: true, inFlight: 0, waitedMs: 0 };

    let quietSince: number | undefined;
    for (;;) {
      const inFlight = await this.inFlight(upstream);
      const now = Date.now();
      quietSince = inFlight === 0 ? (quietSince ?? now) : undefined;
      const quiet = quietSince !== undefined && now - quietSince >= quietMs;
      // At the deadline, zero seen is zero: the quiet period is a margin, not a requirement.
      if (quiet || (now - started >= opts.timeoutMs && inFlight === 0)) break;
      // Timed out: keep holding it, so that a later drain still sees its requests.
      if (now - started >= opts.timeoutMs) {
        return { drained: false, inFlight, waitedMs: now - started };
      }
      await sleep(DRAIN_POLL_MS);
    }
    await this.updateServer('back', backServerId(routeId), (current) =>
      current === undefined
        ? undefined
        : backServerConfig(
            this.name,
            routeId,
            withoutDraining(backStateOf(routeId, current), upstream),
          ),
    );
    return { drained: true, inFlight: 0, waitedMs: Date.now() - started };
  }

  async stats(routeId: RouteId, since?: number): Promise<RouteStats> {
    await this.ready();
    // One reader at a time: two would read the same bytes twice.
    const read = this.reading.then(() => this.readLogs());
    this.reading = read.catch(() => undefined);
    await read;
    return this.ledger.stats(routeId, since);
  }

  async removeRoute(routeId: RouteId): Promise<void> {
    await this.updateDomains(routeId, []);
    for (const id of await this.frontServerIds()) await this.dropFrontRoute(id, routeId);
    // Requests already inside the back server finish: Caddy lets the old config's requests run.
    await this.updateServer('back', backServerId(routeId), () => null);
    this.ledger.forget(routeId);
  }

  async internalCaRoot(): Promise<string> {
    await this.ready();
    const ca = await this.clients.front.call('GET', `/pki/ca/${INTERNAL_CA}`);
    if (!isJsonObject(ca) || typeof ca.root_certificate !== 'string') {
      throw new GantryError(
        'GANTRY_ERR_EDGE_UNAVAILABLE',
        `Caddy at ${this.opts.frontAdminUrl} has no internal CA root`,
      );
    }
    return ca.root_certificate;
  }

  /** Closes the log files; the routes stay in Caddy. */
  async close(): Promise<void> {
    await Promise.all([this.logs.front.close(), this.logs.back.close()]);
  }

  // Access logging on both tiers, and the config paths we write under, once per edge.
  private ready(): Promise<void> {
    this.setup ??= (async () => {
      for (const tier of ['front', 'back'] as const) {
        const client = this.clients[tier];
        await ensurePath(client, ['apps', 'http', 'servers']);
        await ensurePath(client, ['logging', 'logs']);
        const path = `/config/logging/logs/${EDGE_LOG_NAME}`;
        const want = accessLogConfig(accessLogFile(this.opts.logDir, tier), tier);
        if (canonicalJson(await client.get(path)) !== canonicalJson(want)) {
          await client.call('POST', path, want);
        }
      }
      // Before any certificate exists: the CA must not try to install itself system-wide.
      const pki = `${APPS}/pki`;
      if (canonicalJson(await this.clients.front.get(pki)) !== canonicalJson(pkiAppConfig())) {
        await this.clients.front.call('POST', pki, pkiAppConfig());
      }
    })().catch((e: unknown) => {
      this.setup = undefined;
      throw e;
    });
    return this.setup;
  }

  private async backState(routeId: RouteId): Promise<BackState> {
    const back = await this.clients.back.get(`/id/${backServerId(routeId)}`);
    if (back === undefined) throw noRoute(routeId);
    return backStateOf(routeId, back);
  }

  /**
   * Read, compute, write one server — `compute` returns the server wanted, `null` to delete it,
   * `undefined` to leave it — guarded by Caddy's ETag so that a concurrent change (another route
   * on the same listener, a drain letting go while upstreams are set, another controller) is
   * never overwritten: Caddy refuses the write, and we compute again from the new config.
   * Unchanged configs are not written: every load costs the tier its idle client connections.
   */
  private async updateServer(
    tier: Tier,
    id: string,
    compute: (current: unknown) => JsonObject | null | undefined,
  ): Promise<void> {
    return this.updateAt(tier, `${SERVERS}/${id}`, `/id/${id}`, compute);
  }

  /** `updateServer` for any config path; `patchPath` addresses the same object for PATCH. */
  private async updateAt(
    tier: Tier,
    path: string,
    patchPath: string,
    compute: (current: unknown) => JsonObject | null | undefined,
  ): Promise<void> {
    const client = this.clients[tier];
    for (let attempt = 1; ; attempt++) {
      const { value: current, etag } = await client.read(path);
      const want = compute(current);
      try {
        if (want === undefined) return;
        if (want === null) {
          if (current !== undefined) await client.call('DELETE', path, undefined, etag);
        } else if (current === undefined) {
          await client.call('POST', path, want, etag);
        } else if (canonicalJson(current) !== canonicalJson(want)) {
          // The whole server in one PATCH: one config load, listeners stay open.
          await client.call('PATCH', patchPath, want, etag);
        }
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= CONFLICT_RETRIES) throw e;
      }
    }
  }

  /**
   * Gives `routeId` exactly `domains` on the HTTPS listener. The server, `http_port` and the TLS
   * policies change together, in one write of the front's `apps` (one reload, not three), guarded
   * by the ETag like any server.
   */
  private updateDomains(routeId: RouteId, domains: readonly string[]): Promise<void> {
    return this.updateAt('front', APPS, APPS, (apps) =>
      withHttps(
        apps,
        this.name,
        this.https,
        withDomainRoute(domainRoutesOf(apps), { id: routeId, domains }),
      ),
    );
  }

  private async frontServerIds(): Promise<string[]> {
    const all = await this.clients.front.get(SERVERS);
    return isJsonObject(all)
      ? Object.keys(all).filter((id) => id.startsWith(FRONT_SERVER_PREFIX))
      : [];
  }

  private async dropFrontRoute(id: string, routeId: RouteId): Promise<void> {
    await this.updateServer('front', id, (current) => {
      const routes = frontRoutesOf(current);
      if (!routes.some((r) => r.id === routeId)) return undefined;
      const rest = routes.filter((r) => r.id !== routeId);
      const listen = listenOf(current);
      return rest.length === 0 || listen === undefined
        ? null
        : frontServerConfig(this.name, listen, rest);
    });
  }

  private async inFlight(upstream: Upstream): Promise<number> {
    const list = await this.clients.back.call('GET', '/reverse_proxy/upstreams');
    if (!Array.isArray(list)) return 0;
    for (const u of list) {
      if (isJsonObject(u) && u.address === upstream && typeof u.num_requests === 'number') {
        return u.num_requests;
      }
    }
    return 0;
  }

  private async readLogs(): Promise<void> {
    for (const r of await this.logs.front.read()) this.ledger.add(r, 'total');
    for (const r of await this.logs.back.read()) this.ledger.add(r, 'upstream');
  }
}

/** Creates each missing object along `/config/a/b/…` (POST to a map key creates it). */
async function ensurePath(client: AdminClient, keys: readonly string[]): Promise<void> {
  let path = '/config';
  for (const key of keys) {
    const next = `${path}/${key}`;
    if (!isJsonObject(await client.get(next))) await client.call('POST', next, {});
    path = next;
  }
}

function checkRoute(edgeName: string, route: RouteSpec): void {
  if (!isRouteId(route.id)) {
    throw rejected(
      `route id ${JSON.stringify(route.id)} must be lower-case letters, digits, dashes`,
    );
  }
  // A Unix socket name (abstract ones too) has 107 bytes at most.
  if (tierSocket(edgeName, route.id).length - 'unix/'.length > 107) {
    throw rejected(`route id ${route.id} is too long for edge ${edgeName}`);
  }
  const { port, host } = route.listen;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw rejected(`bad port ${port}`);
  if (!/^[A-Za-z0-9.-]+$/.test(host)) throw rejected(`bad listen host ${JSON.stringify(host)}`);
  if (
    route.domain !== undefined &&
    !/^[A-Za-z0-9*](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(route.domain)
  ) {
    throw rejected(`bad domain ${JSON.stringify(route.domain)}`);
  }
  // No wildcards: a wildcard certificate needs ACME's DNS challenge, which the edge does not do.
  const bad = route.domains?.find((d) => !/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(d));
  if (bad !== undefined) throw rejected(`bad domain ${JSON.stringify(bad)}`);
}

function noRoute(routeId: RouteId): GantryError {
  return new GantryError('GANTRY_ERR_NOT_FOUND', `the edge has no route ${routeId}`);
}

function rejected(message: string): GantryError {
  return new GantryError('GANTRY_ERR_EDGE_REJECTED', message);
}
