/**
 * The Kubernetes edge: a route is a Service (`gantry-<app>-<env>`) selecting the pods labelled
 * with the route's id; `setUpstreams` (un)labels pods and puts the Service's selector back if
 * someone edited it. Upstreams are `<pod>:<port>` (the runtime's `Instance.upstream`), and
 * `upstreams` reports the pods the Service's selector really picks, so a hand edit shows as a
 * difference to the reconciler. `ensureRoute` leaves an existing Service's selector alone: it is
 * the route's upstreams, which only `setUpstreams` changes. A Service has no request counts, so
 * `stats` reports none and a bake's error-rate gate sees no traffic; the probes still gate every
 * step.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrainResult, Edge, RouteId, RouteSpec, RouteStats, Upstream } from '../edge.js';
import { isRouteId } from '../edge.js';
import { GantryError, isGantryError } from '../../errors.js';
import { isManagedAs, refuseForeign } from '../../runtime/kubernetes/adoption.js';
import {
  MERGE_PATCH,
  kubeError,
  statusOf,
  type Kube,
} from '../../runtime/kubernetes/kube-client.js';
import { serviceManifest } from '../../runtime/kubernetes/manifests.js';
import { LABEL, MANAGED_BY, serviceName } from '../../runtime/kubernetes/names.js';
import { podPort } from '../../runtime/kubernetes/pod-instance.js';
import type { WatchCache } from '../../runtime/kubernetes/watch-cache.js';

/**
 * Default time for an unrouted pod to leave every node's forwarding rules: the endpoints
 * controller and kube-proxy propagate a label change in about a second on a healthy cluster.
 */
export const DEFAULT_DRAIN_MS = 2_000;
/** How long `setUpstreams` waits for the watch cache to show its own label writes. */
const SEEN_TIMEOUT_MS = 10_000;

export interface ServiceEdgeOptions {
  readonly kube: Kube;
  readonly pods: WatchCache<V1Pod>;
  /** The runtime's cache of Gantry's Services (labelled `managed-by: gantry`). */
  readonly services: WatchCache<V1Service>;
  readonly drainMs?: number | undefined;
}

export class KubernetesServiceEdge implements Edge {
  private readonly since = Date.now();

  constructor(private readonly opts: ServiceEdgeOptions) {}

  async ensureRoute(route: RouteSpec): Promise<{ url: string }> {
    checkRoute(route.id);
    const { kube } = this.opts;
    const body = serviceManifest({ id: route.id, port: route.listen.port }, kube.namespace);
    const name = serviceName(route.id);
    try {
      const existing = await kube.core.readNamespacedService({ name, namespace: kube.namespace });
      refuseForeign('service', name, kube.namespace, existing.metadata?.labels, {
        [LABEL.route]: route.id,
      });
      // The selector is the route's upstreams: kept here, put back by `setUpstreams`.
      if (existing.spec?.ports?.[0]?.port !== route.listen.port) {
        await kube.core.patchNamespacedService(
          { name, namespace: kube.namespace, body: { spec: { ports: body.spec?.ports } } },
          MERGE_PATCH,
        );
      }
    } catch (e) {
      if (isGantryError(e, 'GANTRY_ERR_INSTANCE_CONFLICT')) throw e;
      if (statusOf(e) !== 404)
        throw kubeError(e, `ensure service ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
      try {
        await kube.core.createNamespacedService({ namespace: kube.namespace, body });
      } catch (e2) {
        if (statusOf(e2) !== 409) {
          throw kubeError(e2, `create service ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
        }
        // Made meanwhile: by another controller of ours, or by someone else (refused).
        const made = await this.readService(name);
        refuseForeign('service', name, kube.namespace, made?.metadata?.labels, {
          [LABEL.route]: route.id,
        });
      }
    }
    // Read-your-writes: the next `upstreams` call must find the Service.
    await this.seen(`service ${name} on port ${route.listen.port}`, this.opts.services, (now) =>
      now.some((s) => s.metadata?.name === name && portOf(s) === route.listen.port),
    );
    return { url: `http://${name}.${kube.namespace}.svc:${route.listen.port}` };
  }

  async setUpstreams(routeId: RouteId, upstreams: readonly Upstream[]): Promise<void> {
    checkRoute(routeId);
    const wanted = new Set(upstreams.map(podOf));
    const pods = await this.opts.pods.items();
    const writes: Promise<void>[] = [];
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const has = pod.metadata?.labels?.[LABEL.route] === routeId;
      if (wanted.has(name) && !has) writes.push(this.label(name, routeId));
      if (!wanted.has(name) && has) writes.push(this.label(name, null));
    }
    await Promise.all(writes);
    // Pods first, then the selector: once it is back, it picks exactly the set just labelled.
    await this.restoreSelector(routeId);
    // Read-your-writes: the next `upstreams` call must see this set.
    await this.seen(`the pods of route ${routeId} with their new labels`, this.opts.pods, (now) => {
      const routed = labelledPods(now, routeId).map((p) => p.metadata?.name ?? '');
      const live = new Set(now.map((p) => p.metadata?.name ?? ''));
      const want = [...wanted].filter((n) => live.has(n));
      return routed.length === want.length && want.every((n) => routed.includes(n));
    });
    const name = serviceName(routeId);
    await this.seen(`the selector of service ${name}`, this.opts.services, (now) => {
      const svc = now.find((s) => s.metadata?.name === name);
      return svc === undefined || isOwnSelector(svc, routeId);
    });
  }

  /**
   * The pods the route's Service really sends traffic to: those its selector picks, which are the
   * pods labelled with the route unless someone edited the selector. GANTRY_ERR_NOT_FOUND when
   * the Service is gone (deleted by hand): the reconciler then restores the route.
   */
  async upstreams(routeId: RouteId): Promise<Upstream[]> {
    checkRoute(routeId);
    const name = serviceName(routeId);
    await this.opts.services.items();
    const svc = this.opts.services.get(name, this.opts.kube.namespace);
    if (svc === undefined) {
      throw new GantryError(
        'GANTRY_ERR_NOT_FOUND',
        `the edge has no route ${routeId} (service ${name})`,
      );
    }
    const pods = await this.opts.pods.items();
    return selectedPods(pods, svc.spec?.selector)
      .map((p) => `${p.metadata?.name ?? ''}:${podPort(p) ?? 0}`)
      .sort();
  }

  /**
   * A Service cannot tell when the last request to a pod finished: this waits for the label
   * change to propagate (endpoints controller, kube-proxy), then the pod's own termination grace
   * period lets requests already running finish after SIGTERM.
   */
  async drain(
    _routeId: RouteId,
    _upstream: Upstream,
    opts: { timeoutMs: number },
  ): Promise<DrainResult> {
    const waitedMs = Math.min(this.opts.drainMs ?? DEFAULT_DRAIN_MS, Math.max(0, opts.timeoutMs));
    await sleep(waitedMs);
    return { drained: true, inFlight: 0, waitedMs };
  }

  /** No request counts exist at a Service: always zero. */
  async stats(_routeId: RouteId, since?: number): Promise<RouteStats> {
    return { since: since ?? this.since, requests: 0, errors5xx: 0, byUpstream: {} };
  }

  async removeRoute(routeId: RouteId): Promise<void> {
    checkRoute(routeId);
    const pods = await this.opts.pods.items();
    await Promise.all(
      labelledPods(pods, routeId).map((p) => this.label(p.metadata?.name ?? '', null)),
    );
    const name = serviceName(routeId);
    const svc = await this.readService(name);
    // A same-named Service Gantry did not make is not this route: left alone.
    if (svc === undefined || !isManagedAs(svc.metadata?.labels, { [LABEL.route]: routeId })) return;
    try {
      await this.opts.kube.core.deleteNamespacedService({
        name,
        namespace: this.opts.kube.namespace,
        body: { preconditions: { uid: svc.metadata?.uid } },
      });
    } catch (e) {
      const status = statusOf(e);
      if (status !== 404 && status !== 409)
        throw kubeError(e, `delete service ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
    }
  }

  /**
   * Puts the Service's selector back to the route's label when it was edited by hand (a merge
   * patch merges maps, so keys someone added are removed by name). A Service that is gone is left
   * to `ensureRoute`.
   */
  private async restoreSelector(routeId: RouteId): Promise<void> {
    const { kube, services } = this.opts;
    const name = serviceName(routeId);
    await services.items();
    const svc = services.get(name, kube.namespace);
    if (svc === undefined || isOwnSelector(svc, routeId)) return;
    const selector: Record<string, string | null> = { ...ownSelector(routeId) };
    for (const key of Object.keys(svc.spec?.selector ?? {}))
      if (!(key in selector)) selector[key] = null;
    try {
      await kube.core.patchNamespacedService(
        { name, namespace: kube.namespace, body: { spec: { selector } } },
        MERGE_PATCH,
      );
    } catch (e) {
      if (statusOf(e) === 404) return;
      throw kubeError(e, `restore the selector of service ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
    }
  }

  /** Reads a Service by name from the API server (not the cache: it holds only Gantry's). */
  private async readService(name: string): Promise<V1Service | undefined> {
    const { kube } = this.opts;
    try {
      return await kube.core.readNamespacedService({ name, namespace: kube.namespace });
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw kubeError(e, `read service ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
    }
  }

  /** Waits until the cache shows `ok`, or fails the call: a write we cannot see is not done. */
  private async seen<T extends V1Pod | V1Service>(
    what: string,
    cache: WatchCache<T>,
    ok: (now: readonly T[]) => boolean,
  ): Promise<void> {
    const seen = await cache.until((now) => (ok(now) ? true : undefined), SEEN_TIMEOUT_MS);
    if (seen === undefined) {
      throw new GantryError(
        'GANTRY_ERR_EDGE_UNAVAILABLE',
        `${what} did not show within ${SEEN_TIMEOUT_MS / 1000}s`,
      );
    }
  }

  private async label(name: string, routeId: string | null): Promise<void> {
    try {
      await this.opts.kube.core.patchNamespacedPod(
        {
          name,
          namespace: this.opts.kube.namespace,
          body: { metadata: { labels: { [LABEL.route]: routeId } } },
        },
        MERGE_PATCH,
      );
    } catch (e) {
      if (statusOf(e) === 404) return; // gone: nothing to route or unroute
      throw kubeError(e, `label pod ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
    }
  }
}

/** The pods `setUpstreams` labelled for the route (what the Service picks when left as made). */
function labelledPods(pods: readonly V1Pod[], routeId: string): V1Pod[] {
  return selectedPods(pods, ownSelector(routeId));
}

/**
 * The pods a Service selector picks, as the endpoints controller does (every key equal), leaving
 * out those on their way out. An empty selector picks none: such a Service gets no endpoints.
 * Only Gantry's pods are watched, so a selector edited to pick others' pods shows only ours.
 */
function selectedPods(
  pods: readonly V1Pod[],
  selector: Readonly<Record<string, string>> | undefined,
): V1Pod[] {
  const wanted = Object.entries(selector ?? {});
  if (wanted.length === 0) return [];
  return pods.filter(
    (p) =>
      !p.metadata?.deletionTimestamp && wanted.every(([k, v]) => p.metadata?.labels?.[k] === v),
  );
}

/** The selector the route's Service is made with. */
function ownSelector(routeId: string): Record<string, string> {
  return { [LABEL.managed]: MANAGED_BY, [LABEL.route]: routeId };
}

function isOwnSelector(svc: V1Service, routeId: string): boolean {
  const have = svc.spec?.selector ?? {};
  const want = ownSelector(routeId);
  return (
    Object.keys(have).length === Object.keys(want).length &&
    Object.entries(want).every(([k, v]) => have[k] === v)
  );
}

function portOf(svc: V1Service): number | undefined {
  return svc.spec?.ports?.[0]?.port;
}

/** `<pod>:<port>` → the pod's name. */
function podOf(upstream: Upstream): string {
  const i = upstream.lastIndexOf(':');
  return i < 0 ? upstream : upstream.slice(0, i);
}

function checkRoute(id: string): void {
  if (!isRouteId(id)) {
    throw new GantryError('GANTRY_ERR_EDGE_REJECTED', `"${id}" is not a valid route id`);
  }
}
