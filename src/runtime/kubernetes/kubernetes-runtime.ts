/**
 * The Kubernetes runtime: a release of a revision is a ReplicaSet (labels `gantry.dev/revision`
 * and `gantry.dev/release`; specs from before releases have ReplicaSets without the latter), an
 * instance is one of its pods claimed for a slot (label `gantry.dev/slot`). A release's secret
 * values are in its own immutable Secret, owned by its ReplicaSet (secrets.ts). `start` adds the slot to the ReplicaSet (one replica more) and
 * claims the pod that appears; `stop` marks the slot's pod as the cheapest to delete, takes the
 * slot out (one replica fewer) and deletes exactly that pod; a ReplicaSet left with no slot is
 * deleted. `list` reads a watch cache. Nothing outside this directory imports client-node.
 *
 * A ReplicaSet scaled by hand: pods beyond its slots are listed too (their slot is their pod
 * name), so the reconciler sees them as surplus and stops them, which puts replicas back to the
 * slots; after a scale-down, the slots no pod holds any more are forgotten by the next start.
 */
import type { CoreV1Event, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GantryError } from '../../errors.js';
import type {
  ExecResult,
  Instance,
  InstanceFilter,
  InstanceProbes,
  InstanceSpec,
  FollowLogsOptions,
  OneOffResult,
  OneOffSpec,
  Runtime,
  RuntimeChange,
} from '../runtime.js';
import { MERGE_PATCH, kubeError, makeKube, messageOf, statusOf, type Kube } from './kube-client.js';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  ANNOTATION,
  LABEL,
  MANAGED_BY,
  processLabel,
  releaseLabel,
  replicaSetName,
} from './names.js';
import {
  LOWEST_DELETION_COST,
  isMarkedForDeletion,
  pairUnclaimed,
  podEvidence,
  podInstance,
  podReadiness,
} from './pod-instance.js';
import { podProxyGet } from './pod-proxy.js';
import { addSlot, deleteIfEmpty, readReplicaSet, removeSlot, slotsOf } from './replica-sets.js';
import { ensurePullSecret, pullSecretManifest } from './pull-secret.js';
import { ensureSecret, ownSecret } from './secrets.js';
import { WatchCache } from './watch-cache.js';
import type { RegistryAccess } from '../../registry/credentials.js';

/** How long `start` waits for the ReplicaSet controller to make the slot's pod. */
const CLAIM_TIMEOUT_MS = 60_000;
/** Beyond the grace period, how long `stop` waits for the kubelet to report the pod gone. */
const GONE_SLACK_MS = 30_000;

export interface KubernetesRuntimeOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly log?: Logger | undefined;
  /** How long `list` may answer from the cache while its watch is down (default 30 s). */
  readonly staleAfterMs?: number | undefined;
  /** Gantry's registry: with credentials, pods pull through an imagePullSecret (pull-secret.ts). */
  readonly registry?: RegistryAccess | undefined;
}

/** Runs instances as pods of per-release ReplicaSets in one namespace. */
export class KubernetesRuntime implements Runtime {
  readonly kube: Kube;
  readonly pods: WatchCache<V1Pod>;
  readonly replicaSets: WatchCache<V1ReplicaSet>;
  /** The Services of the edge (`src/edge/kubernetes/`), watched here so their edits wake the reconciler. */
  readonly services: WatchCache<V1Service>;
  readonly probes: InstanceProbes;
  /** One start or stop per ReplicaSet at a time in this process (they read-modify-write it). */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: KubernetesRuntimeOptions) {
    this.kube = makeKube(opts.kc, opts.namespace);
    const ns = opts.namespace;
    const selector = `${LABEL.managed}=${MANAGED_BY}`;
    this.pods = new WatchCache<V1Pod>({
      kc: opts.kc,
      path: `/api/v1/namespaces/${ns}/pods`,
      labelSelector: selector,
      list: () => this.kube.core.listNamespacedPod({ namespace: ns, labelSelector: selector }),
      what: 'pods',
      log: opts.log,
      staleAfterMs: opts.staleAfterMs,
    });
    this.replicaSets = new WatchCache<V1ReplicaSet>({
      kc: opts.kc,
      path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
      labelSelector: selector,
      list: () =>
        this.kube.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: selector }),
      what: 'replicasets',
      log: opts.log,
      staleAfterMs: opts.staleAfterMs,
    });
    this.services = new WatchCache<V1Service>({
      kc: opts.kc,
      path: `/api/v1/namespaces/${ns}/services`,
      labelSelector: selector,
      list: () => this.kube.core.listNamespacedService({ namespace: ns, labelSelector: selector }),
      what: 'services',
      log: opts.log,
      staleAfterMs: opts.staleAfterMs,
    });
    this.probes = {
      httpGet: (instance, path, timeoutMs) => this.proxyGet(instance, path, timeoutMs),
      ready: (instance) => {
        const pod = this.pods.get(instance.name, ns);
        return pod === undefined ? undefined : podReadiness(pod);
      },
    };
  }

  /** Lists and starts watching; resolves once every cache holds the namespace's objects. */
  async connect(): Promise<void> {
    await Promise.all([this.pods.start(), this.replicaSets.start(), this.services.start()]);
  }

  close(): void {
    this.pods.stop();
    this.replicaSets.stop();
    this.services.stop();
  }

  /**
   * Reports changes to Gantry's pods and ReplicaSets by their app and environment labels (a pod
   * deleted, a ReplicaSet scaled by hand), changes to a route's Service by the environments whose
   * pods it routes (a selector edited by hand), and `{ all: true }` after a relist: a watch that
   * came back with 410 Gone missed events. The caches reconnect by themselves.
   */
  watch(onChange: (change: RuntimeChange) => void): () => void {
    const byLabels = (o: V1Pod | V1ReplicaSet): void => {
      const labels = o.metadata?.labels ?? {};
      const app = labels[LABEL.app];
      const env = labels[LABEL.env];
      if (labels[LABEL.managed] === MANAGED_BY && app && env) onChange({ all: false, app, env });
    };
    const all = (): void => onChange({ all: true });
    const stops = [
      this.pods.subscribe({ changed: byLabels, relisted: all }),
      this.replicaSets.subscribe({ changed: byLabels, relisted: all }),
      this.services.subscribe({
        changed: (svc) => {
          for (const change of routeChanges(svc, this.pods.snapshot())) onChange(change);
        },
        relisted: all,
      }),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  }

  /** One host: the namespace. */
  hosts(): string[] {
    return [this.opts.namespace];
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    this.checkHost(spec.host);
    const rsName = await this.replicaSetOf(spec);
    return this.serial(rsName, async () => {
      const existing = await this.claimedPod(spec.app, spec.env, spec.slot);
      if (existing !== undefined) return this.owned(existing, spec);
      const secrets = Object.keys(spec.secrets).length > 0;
      // The Secret before the ReplicaSet (a pod without its Secret cannot start), and its owner
      // after: the owner reference needs the ReplicaSet's uid.
      if (secrets) await ensureSecret(this.kube, spec, await readReplicaSet(this.kube, rsName));
      const pull = pullSecretManifest(this.opts.registry, this.kube.namespace);
      if (pull) await ensurePullSecret(this.kube, pull);
      await addSlot(this.kube, rsName, spec, (await this.seen(spec)).held, pull?.metadata?.name);
      const rs = secrets ? await readReplicaSet(this.kube, rsName) : undefined;
      if (rs !== undefined) await ownSecret(this.kube, spec, rs);
      const instance = await this.claim(spec);
      return this.owned(instance, spec);
    });
  }

  async stop(instance: Instance, opts: { timeoutSeconds: number }): Promise<void> {
    await this.scaleDown(instance, Math.max(0, Math.round(opts.timeoutSeconds)));
  }

  async remove(instance: Instance): Promise<void> {
    await this.scaleDown(instance, 0);
  }

  async list(filter: InstanceFilter): Promise<Instance[]> {
    const pods = await this.pods.items();
    const pairs = pairings(pods, await this.replicaSets.items());
    return pods
      .map((p) => podInstance(p, this.opts.namespace, slotOf(p, pairs)))
      .filter(
        (i): i is Instance =>
          i !== undefined &&
          i.app === filter.app &&
          (filter.env === undefined || i.env === filter.env),
      )
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  exec(instance: Instance): Promise<ExecResult> {
    // Exec needs a WebSocket to the kubelet (and `pods/exec create`); health checks of kind exec
    // use the pod's readiness probe instead, which runs the same command.
    return Promise.reject(
      new GantryError(
        'GANTRY_ERR_UNSUPPORTED',
        `exec into ${instance.name} is not supported on the Kubernetes target; its exec health check runs as the pod's readiness probe`,
      ),
    );
  }

  /** The log so far (`follow: false`) only: following needs a streamed request this target does not make yet. */
  async followLogs(instance: Instance, opts: FollowLogsOptions): Promise<void> {
    if (opts.follow) {
      throw new GantryError(
        'GANTRY_ERR_UNSUPPORTED',
        'following logs is not supported on the Kubernetes target yet; read them without --follow',
      );
    }
    for (const line of await this.logs(instance, opts.tailLines ?? 100)) opts.onLine({ line });
  }

  /** One-off containers (release phase, `gantry run`) are not supported on this target yet. */
  runOnce(spec: OneOffSpec): Promise<OneOffResult> {
    return Promise.reject(
      new GantryError(
        'GANTRY_ERR_UNSUPPORTED',
        `one-off commands (the release phase, gantry run) are not supported on the Kubernetes target yet (${spec.app}/${spec.env})`,
      ),
    );
  }

  sweepOneOffs(): Promise<number> {
    return Promise.resolve(0);
  }

  async logs(instance: Instance, tailLines: number): Promise<string[]> {
    const read = async (previous: boolean): Promise<string[]> => {
      const text = await this.kube.core.readNamespacedPodLog({
        name: instance.name,
        namespace: this.opts.namespace,
        container: 'app',
        tailLines,
        previous,
      });
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      return lines;
    };
    try {
      const lines = await read(false);
      // A container waiting to restart has no output of its own: its last run's is the evidence.
      if (lines.length === 0 && instance.restartCount > 0) return await read(true);
      return lines;
    } catch (e) {
      const status = statusOf(e);
      if (status === 404) return [];
      if (status === 400 && instance.restartCount > 0) return read(true).catch(() => []);
      if (status === 400) return [];
      throw kubeError(e, `logs of ${instance.name}`);
    }
  }

  /**
   * Why a pod is not serving, for the rollout record: phase, container waiting and terminated
   * reasons (CrashLoopBackOff, ImagePullBackOff), readiness, and its Warning events.
   */
  async evidence(instance: Instance): Promise<string[]> {
    const pod = this.pods.get(instance.name, this.opts.namespace);
    if (pod === undefined) return [`[kubernetes] pod ${instance.name} is gone`];
    let events: CoreV1Event[] = [];
    try {
      const list = await this.kube.core.listNamespacedEvent({
        namespace: this.opts.namespace,
        fieldSelector: `involvedObject.name=${instance.name}`,
      });
      events = list.items;
    } catch (e) {
      this.opts.log?.warn({ pod: instance.name, err: messageOf(e) }, 'cannot list pod events');
    }
    return podEvidence(pod, events);
  }

  /** The cluster pulls images by digest itself: nothing to make present. */
  async ensureImage(host: string): Promise<void> {
    this.checkHost(host);
  }

  /** Nodes' image caches belong to the kubelet's garbage collector: nothing is removed here. */
  async removeImages(host: string): Promise<string[]> {
    this.checkHost(host);
    return [];
  }

  private checkHost(host: string): void {
    if (host !== this.opts.namespace) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `unknown host "${host}"; the Kubernetes target has one: "${this.opts.namespace}" (its namespace)`,
      );
    }
  }

  /** The pod labelled for a slot of an app environment, if any and not being deleted. */
  private async claimedPod(app: string, env: string, slot: string): Promise<Instance | undefined> {
    const pods = await this.pods.items();
    const pod = pods.find(
      (p) =>
        p.metadata?.labels?.[LABEL.app] === app &&
        p.metadata.labels[LABEL.env] === env &&
        p.metadata.labels[LABEL.slot] === slot &&
        !p.metadata.deletionTimestamp,
    );
    return pod === undefined ? undefined : podInstance(pod, this.opts.namespace);
  }

  /** Claims a fresh pod of the slot's ReplicaSet for the slot, waiting for one to appear. */
  private async claim(spec: InstanceSpec): Promise<Instance> {
    const deadline = Date.now() + CLAIM_TIMEOUT_MS;
    for (;;) {
      const mine = await this.claimedPod(spec.app, spec.env, spec.slot);
      if (mine !== undefined) return mine;
      const free = await this.pods.until(
        (pods) => {
          const candidates = pods.filter((p) => isFree(p, spec));
          return candidates.length > 0 ? candidates : undefined;
        },
        Math.max(0, deadline - Date.now()),
      );
      if (free === undefined) {
        throw new GantryError(
          'GANTRY_ERR_KUBERNETES_UNAVAILABLE',
          `no pod of ${replicaSetName(spec.app, spec.env, spec.revision, spec.release, spec.process)} appeared for slot ${spec.slot} within ${CLAIM_TIMEOUT_MS / 1000}s (quota, or the ReplicaSet controller is not running?)`,
        );
      }
      // The pod `list` already shows in this slot first, so an instance keeps its id.
      const pairs = pairings(this.pods.snapshot(), this.replicaSets.snapshot());
      const ordered = [...free].sort(
        (a, b) =>
          Number(pairs.get(b.metadata?.name ?? '') === spec.slot) -
          Number(pairs.get(a.metadata?.name ?? '') === spec.slot),
      );
      for (const pod of ordered) {
        if (await this.label(pod, spec)) break;
      }
      // The claim is a write: wait until the cache has seen it before answering.
      const seen = await this.pods.until(
        (pods) =>
          pods.find((p) => p.metadata?.labels?.[LABEL.slot] === spec.slot && sameEnv(p, spec)),
        5_000,
      );
      if (seen !== undefined) {
        const instance = podInstance(seen, this.opts.namespace);
        if (instance !== undefined) return instance;
      }
    }
  }

  /** Labels a pod for the slot if it is still the version we saw unclaimed; false on a lost race. */
  private async label(pod: V1Pod, spec: InstanceSpec): Promise<boolean> {
    try {
      await this.kube.core.patchNamespacedPod(
        {
          name: pod.metadata?.name ?? '',
          namespace: this.opts.namespace,
          body: {
            metadata: {
              resourceVersion: pod.metadata?.resourceVersion,
              labels: { [LABEL.slot]: spec.slot, [LABEL.rollout]: spec.rolloutId },
            },
          },
        },
        MERGE_PATCH,
      );
      return true;
    } catch (e) {
      const status = statusOf(e);
      if (status === 409 || status === 404) return false;
      throw kubeError(e, `claim pod ${pod.metadata?.name}`);
    }
  }

  /** The instance for the slot, if it holds what the spec asks for. */
  private owned(instance: Instance, spec: InstanceSpec): Instance {
    // A slot is deterministic per rollout: another revision or release in it means two plans disagree.
    if (
      instance.revision !== spec.revision ||
      instance.image !== spec.image ||
      releaseLabel(instance.release) !== releaseLabel(spec.release)
    ) {
      const release = typeof instance.release === 'number' ? ` release v${instance.release}` : '';
      throw new GantryError(
        'GANTRY_ERR_INSTANCE_CONFLICT',
        `slot ${spec.slot} of ${spec.app}/${spec.env} already runs revision ${instance.revision.slice(0, 12)}${release}`,
      );
    }
    return instance;
  }

  /**
   * Scale-down of exactly one pod: cheapest to delete → one replica fewer → delete it with the
   * grace period (so SIGTERM, then SIGKILL after it) → wait until it is gone. Each step is safe to
   * repeat, so a retried stop or remove finishes what an interrupted one began.
   */
  private async scaleDown(instance: Instance, graceSeconds: number): Promise<void> {
    this.checkHost(instance.host);
    const rsName = await this.replicaSetOf(instance);
    await this.serial(rsName, async () => {
      const pod = await this.readPod(instance.name);
      const ours = pod !== undefined && (pod.metadata?.uid ?? pod.metadata?.name) === instance.id;
      if (pod !== undefined && ours && pod.metadata?.labels?.[LABEL.managed] !== MANAGED_BY) {
        throw new GantryError(
          'GANTRY_ERR_INSTANCE_CONFLICT',
          `pod ${instance.name} was not created by Gantry; not touching it`,
        );
      }
      if (ours && !pod.metadata?.deletionTimestamp) await this.markCheapest(instance.name);
      // Replicas go back to the slots: pods beyond them (a scale-up by hand) are the ones to go.
      const { held, extra } = await this.seen(instance);
      for (const name of extra) if (name !== instance.name) await this.markCheapest(name);
      // The slot leaves the ReplicaSet even when its pod is already gone (deleted by hand).
      const empty = await removeSlot(this.kube, rsName, instance.slot, held);
      if (ours && !pod.metadata?.deletionTimestamp)
        await this.deletePod(instance.name, graceSeconds);
      if (empty) await deleteIfEmpty(this.kube, rsName);
    });
    await this.pods.until(
      (pods) => (pods.some((p) => p.metadata?.uid === instance.id) ? undefined : true),
      graceSeconds * 1000 + GONE_SLACK_MS,
    );
  }

  /**
   * The name of a release's ReplicaSet: the one the cache holds by its labels when there is one
   * (it may have been named under the older `app-env` scheme), else the name to create it under.
   * Without a release, the ReplicaSet without a release label (made before releases).
   */
  private async replicaSetOf(of: ReleaseOf): Promise<string> {
    const name = replicaSetName(of.app, of.env, of.revision, of.release, of.process);
    const held = (await this.replicaSets.items()).filter((r) => {
      const l = r.metadata?.labels;
      return l?.[LABEL.managed] === MANAGED_BY && isOfRelease(l, of);
    });
    if (held.some((r) => r.metadata?.name === name)) return name;
    return held[0]?.metadata?.name ?? name;
  }

  /**
   * What the caches show of a release's ReplicaSet: the slots its live pods hold (claimed or
   * paired), and, when it has more replicas than slots, its pods beyond them (not yet marked).
   */
  private async seen(of: ReleaseOf): Promise<{ held: Set<string>; extra: string[] }> {
    const rsName = await this.replicaSetOf(of);
    const rs = (await this.replicaSets.items()).find((r) => r.metadata?.name === rsName);
    const pods = (await this.pods.items()).filter(
      (p) => !p.metadata?.deletionTimestamp && isOfRelease(p.metadata?.labels ?? {}, of),
    );
    const pairs = pairings(pods, rs === undefined ? [] : [rs]);
    const held = new Set<string>();
    const extra: string[] = [];
    for (const p of pods) {
      const name = p.metadata?.name ?? '';
      const slot = p.metadata?.labels?.[LABEL.slot] ?? pairs.get(name);
      if (slot !== undefined) held.add(slot);
      else if (!isMarkedForDeletion(p)) extra.push(name);
    }
    const beyond = rs !== undefined && (rs.spec?.replicas ?? 0) > slotsOf(rs).length;
    return { held, extra: beyond ? extra : [] };
  }

  private async readPod(name: string): Promise<V1Pod | undefined> {
    try {
      return await this.kube.core.readNamespacedPod({ name, namespace: this.opts.namespace });
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw kubeError(e, `read pod ${name}`);
    }
  }

  private async markCheapest(name: string): Promise<void> {
    try {
      await this.kube.core.patchNamespacedPod(
        {
          name,
          namespace: this.opts.namespace,
          body: { metadata: { annotations: { [ANNOTATION.deletionCost]: LOWEST_DELETION_COST } } },
        },
        MERGE_PATCH,
      );
    } catch (e) {
      if (statusOf(e) === 404) return;
      throw kubeError(e, `mark pod ${name} for scale-down`);
    }
  }

  private async deletePod(name: string, graceSeconds: number): Promise<void> {
    try {
      await this.kube.core.deleteNamespacedPod({
        name,
        namespace: this.opts.namespace,
        gracePeriodSeconds: graceSeconds,
      });
    } catch (e) {
      if (statusOf(e) === 404) return;
      throw kubeError(e, `delete pod ${name}`);
    }
  }

  /** The HTTP check through the API server's pod proxy: the controller needs no pod network. */
  private async proxyGet(
    instance: Instance,
    path: string,
    timeoutMs: number,
  ): Promise<{ status: number }> {
    const port = instance.upstream?.split(':').at(-1);
    if (port === undefined) throw new Error('the pod is not running');
    return podProxyGet(this.opts.kc, this.opts.namespace, instance.name, port, path, timeoutMs);
  }

  private async serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}

/** What tells one release's (and process type's) ReplicaSet and pods from another's. */
type ReleaseOf = Pick<Instance, 'app' | 'env' | 'revision' | 'release' | 'process'>;

/**
 * Whether labels are those of `of`'s release and process type; without a release, of objects
 * without the label, and `web`'s objects carry no process label.
 */
function isOfRelease(labels: Readonly<Record<string, string>>, of: ReleaseOf): boolean {
  return (
    labels[LABEL.app] === of.app &&
    labels[LABEL.env] === of.env &&
    labels[LABEL.revision] === of.revision &&
    labels[LABEL.release] === releaseLabel(of.release) &&
    labels[LABEL.process] === processLabel(of.process)
  );
}

/** Pod name → slot for the unclaimed pods of every ReplicaSet (see `pairUnclaimed`). */
function pairings(
  pods: readonly V1Pod[],
  replicaSets: readonly V1ReplicaSet[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const rs of replicaSets) {
    const matchLabels = rs.spec?.selector.matchLabels ?? {};
    const selector = Object.entries(matchLabels);
    if (selector.length === 0) continue;
    // A ReplicaSet from before releases selects the pods of its revision's releases too: the
    // release label (absent on its own pods) tells them apart.
    // Likewise `web`'s selects the other process types' pods: the process label tells them apart.
    const mine = pods.filter(
      (p) =>
        selector.every(([k, v]) => p.metadata?.labels?.[k] === v) &&
        p.metadata?.labels?.[LABEL.release] === matchLabels[LABEL.release] &&
        p.metadata?.labels?.[LABEL.process] === matchLabels[LABEL.process],
    );
    for (const [pod, slot] of pairUnclaimed(slotsOf(rs), mine)) out.set(pod, slot);
  }
  return out;
}

/**
 * The slot a pod is listed under: the one it was claimed for, the one it is paired with, or, for a
 * pod beyond its ReplicaSet's slots (scaled up by hand), its own name, so the reconciler sees it
 * and removes it. Pods on their way out hold no slot they were not claimed for.
 */
function slotOf(pod: V1Pod, pairs: ReadonlyMap<string, string>): string | undefined {
  const name = pod.metadata?.name;
  if (name === undefined) return undefined;
  const paired = pairs.get(name);
  if (paired !== undefined) return paired;
  const owned = pod.metadata?.ownerReferences?.some((r) => r.kind === 'ReplicaSet') ?? false;
  return owned && !pod.metadata?.deletionTimestamp ? name : undefined;
}

/**
 * The environments whose pods a route's Service sends traffic to (found by the pods' route
 * label, which a selector edited by hand does not change); everything when no pod says.
 */
function routeChanges(svc: V1Service, pods: readonly V1Pod[]): RuntimeChange[] {
  const routeId = svc.metadata?.labels?.[LABEL.route];
  const envs = new Map<string, RuntimeChange>();
  for (const p of pods) {
    const l = p.metadata?.labels ?? {};
    const app = l[LABEL.app];
    const env = l[LABEL.env];
    if (routeId === undefined || l[LABEL.route] !== routeId || !app || !env) continue;
    envs.set(`${app}\n${env}`, { all: false, app, env });
  }
  return envs.size > 0 ? [...envs.values()] : [{ all: true }];
}

function sameEnv(pod: V1Pod, spec: InstanceSpec): boolean {
  const l = pod.metadata?.labels ?? {};
  return l[LABEL.app] === spec.app && l[LABEL.env] === spec.env;
}

/** A pod of the spec's release that no slot holds yet and that is not on its way out. */
function isFree(pod: V1Pod, spec: InstanceSpec): boolean {
  const l = pod.metadata?.labels ?? {};
  return (
    isOfRelease(l, spec) &&
    l[LABEL.slot] === undefined &&
    !pod.metadata?.deletionTimestamp &&
    pod.metadata?.annotations?.[ANNOTATION.deletionCost] !== LOWEST_DELETION_COST
  );
}
