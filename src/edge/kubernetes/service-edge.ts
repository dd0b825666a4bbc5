/**
 * The Kubernetes edge: a route is a Service (`gantry-<app>-<env>`) selecting the pods labelled
 * with the route's id; `setUpstreams` (un)labels pods. Upstreams are `<pod>:<port>` (the runtime's
 * `Instance.upstream`). A Service has no request counts, so `stats` reports none and a bake's
 * error-rate gate sees no traffic; the probes still gate every step.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrainResult, Edge, RouteId, RouteSpec, RouteStats, Upstream } from '../edge.js';
import { isRouteId } from '../edge.js';
import { GantryError } from '../../errors.js';
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
      const same =
        existing.spec?.ports?.[0]?.port === route.listen.port &&
        JSON.stringify(existing.spec?.selector) === JSON.stringify(body.spec?.selector);
      if (!same) {
        await kube.core.patchNamespacedService(
          { name, namespace: kube.namespace, body: { spec: body.spec } },
          MERGE_PATCH,
        );
      }
    } catch (e) {
      if (statusOf(e) !== 404)
        throw kubeError(e, `ensure service ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
      try {
        await kube.core.createNamespacedService({ namespace: kube.namespace, body });
      } catch (e2) {
        if (statusOf(e2) !== 409) {
          throw kubeError(e2, `create service ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
        }
      }
    }
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
    // Read-your-writes: the next `upstreams` call must see this set.
    const seen = await this.opts.pods.until((now) => {
      const routed = routedPods(now, routeId).map((p) => p.metadata?.name ?? '');
      const live = new Set(now.map((p) => p.metadata?.name ?? ''));
      const want = [...wanted].filter((n) => live.has(n));
      return routed.length === want.length && want.every((n) => routed.includes(n))
        ? true
        : undefined;
    }, SEEN_TIMEOUT_MS);
    if (seen === undefined) {
      throw new GantryError(
        'GANTRY_ERR_EDGE_UNAVAILABLE',
        `the pods of route ${routeId} did not show their new labels within ${SEEN_TIMEOUT_MS / 1000}s`,
      );
    }
  }

  async upstreams(routeId: RouteId): Promise<Upstream[]> {
    const pods = await this.opts.pods.items();
    return routedPods(pods, routeId)
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
    await this.setUpstreams(routeId, []);
    const name = serviceName(routeId);
    try {
      await this.opts.kube.core.deleteNamespacedService({
        name,
        namespace: this.opts.kube.namespace,
      });
    } catch (e) {
      if (statusOf(e) !== 404)
        throw kubeError(e, `delete service ${name}`, 'GANTRY_ERR_EDGE_UNAVAILABLE');
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

function routedPods(pods: readonly V1Pod[], routeId: string): V1Pod[] {
  return pods.filter(
    (p) =>
      p.metadata?.labels?.[LABEL.managed] === MANAGED_BY &&
      p.metadata.labels[LABEL.route] === routeId &&
      !p.metadata.deletionTimestamp,
  );
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
