/**
 * The ReplicaSet controller and the garbage collector: keeps `spec.replicas` active pods per
 * ReplicaSet, adopts matching orphans, deletes the dependents of owners that are gone, and
 * writes ReplicaSet status through the store (watchers see MODIFIED).
 */
import type { EventRecorder } from './events.js';
import { scaleDownVictims } from './pod-ranking.js';
import { isPodReady } from './pod-status.js';
import { findResource } from './resources.js';
import { DEPENDENT_KINDS, type Rest } from './rest.js';
import { matchesLabels, requirementsOf } from './selectors.js';
import type { Change } from './store.js';
import {
  clone,
  type KObject,
  type OwnerReference,
  type Pod,
  type ReplicaSet,
  type ReplicaSetStatus,
} from './types.js';

const PODS = findResource('', 'pods')!;
const RS = findResource('apps', 'replicasets')!;

function controllerRef(o: KObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

function isActive(p: Pod): boolean {
  return (
    !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'
  );
}

export class ReplicaSetController {
  private readonly dirty = new Set<string>();
  private scheduled = false;
  private unsubscribe = (): void => undefined;
  private resync?: NodeJS.Timeout;

  constructor(
    private readonly rest: Rest,
    private readonly events: EventRecorder,
    private readonly resyncMs = 1000,
  ) {}

  /** Starts reacting to ReplicaSet and pod changes (and resyncing every second, for minReadySeconds). */
  start(): void {
    this.unsubscribe = this.rest.store.subscribe((c) => this.onChange(c));
    this.resync = setInterval(() => this.syncAll(), this.resyncMs);
  }

  /** Stops the controller. */
  stop(): void {
    this.unsubscribe();
    clearInterval(this.resync);
  }

  private onChange(c: Change): void {
    if (c.def.plural === 'replicasets') this.mark(`${c.namespace}/${c.object.metadata.name}`);
    else if (c.def.plural === 'pods') {
      const ref = controllerRef(c.object);
      if (ref?.kind === 'ReplicaSet') this.mark(`${c.namespace}/${ref.name}`);
      else if (!ref) this.markAll(c.namespace);
    }
  }

  private markAll(ns: string): void {
    for (const rs of this.rest.store.list(RS, ns)) this.mark(`${ns}/${rs.metadata.name}`);
  }

  private mark(key: string): void {
    this.dirty.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    // Batched after the current change settles, as a work queue would.
    setImmediate(() => {
      this.scheduled = false;
      const keys = [...this.dirty];
      this.dirty.clear();
      for (const k of keys) this.guard(() => this.sync(k));
    });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      console.warn(`kube-sim replicaset-controller: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private syncAll(): void {
    this.guard(() => this.collectGarbage());
    for (const rs of this.rest.store.list(RS, undefined))
      this.guard(() => this.sync(`${rs.metadata.namespace}/${rs.metadata.name}`));
  }

  /**
   * Deletes pods whose controlling ReplicaSet no longer exists, and any dependent (a Secret) whose
   * ReplicaSet owners are all gone (background propagation).
   */
  private collectGarbage(): void {
    const { store } = this.rest;
    const owners = new Set(store.list(RS, undefined).map((r) => r.metadata.uid));
    for (const p of store.list(PODS, undefined)) {
      const ref = controllerRef(p);
      if (ref?.kind === 'ReplicaSet' && !owners.has(ref.uid) && !p.metadata.deletionTimestamp) {
        this.rest.delete(PODS, p.metadata.namespace!, p.metadata.name!, {});
      }
    }
    for (const def of DEPENDENT_KINDS) {
      if (def === PODS) continue;
      for (const o of store.list(def, undefined)) {
        const refs = o.metadata.ownerReferences ?? [];
        const orphaned =
          refs.length > 0 && refs.every((r) => r.kind === 'ReplicaSet' && !owners.has(r.uid));
        if (orphaned && !o.metadata.deletionTimestamp)
          this.rest.delete(def, o.metadata.namespace!, o.metadata.name!, {});
      }
    }
  }

  private sync(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const { store } = this.rest;
    const rs = store.get(RS, ns, name) as ReplicaSet | undefined;
    if (!rs) return this.collectGarbage();
    const selector = requirementsOf(rs.spec.selector);
    let pods = store.list(PODS, ns) as Pod[];
    if (!rs.metadata.deletionTimestamp)
      this.adopt(
        rs,
        pods.filter(
          (p) => !controllerRef(p) && isActive(p) && matchesLabels(selector, p.metadata.labels),
        ),
      );
    pods = (store.list(PODS, ns) as Pod[]).filter((p) => controllerRef(p)?.uid === rs.metadata.uid);

    if (rs.metadata.deletionTimestamp) return this.finishForeground(rs, pods);
    const active = pods.filter(isActive);
    const diff = (rs.spec.replicas ?? 1) - active.length;
    if (diff > 0) for (let i = 0; i < diff; i++) this.createPod(rs);
    if (diff < 0) {
      for (const victim of scaleDownVictims(active, -diff)) {
        this.rest.delete(PODS, ns, victim.metadata.name!, {});
        this.events.record(
          rs,
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${victim.metadata.name}`,
          'replicaset-controller',
        );
      }
    }
    this.writeStatus(rs);
  }

  private adopt(rs: ReplicaSet, orphans: Pod[]): void {
    for (const p of orphans) {
      p.metadata.ownerReferences = [...(p.metadata.ownerReferences ?? []), this.ownerRef(rs)];
      this.rest.store.update(PODS, p.metadata.namespace!, p);
    }
  }

  private ownerRef(rs: ReplicaSet): OwnerReference {
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: rs.metadata.name!,
      uid: rs.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  private createPod(rs: ReplicaSet): void {
    const t = rs.spec.template;
    const pod = this.rest.create(PODS, rs.metadata.namespace!, {
      metadata: {
        generateName: `${rs.metadata.name}-`,
        labels: clone(t.metadata?.labels ?? {}),
        ...(t.metadata?.annotations ? { annotations: clone(t.metadata.annotations) } : {}),
        ownerReferences: [this.ownerRef(rs)],
      },
      spec: clone(t.spec),
    });
    this.events.record(
      rs,
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${pod.metadata.name}`,
      'replicaset-controller',
    );
  }

  /** Foreground deletion: the ReplicaSet goes once its pods are gone. */
  private finishForeground(rs: ReplicaSet, pods: Pod[]): void {
    for (const p of pods)
      if (!p.metadata.deletionTimestamp)
        this.rest.delete(PODS, p.metadata.namespace!, p.metadata.name!, {});
    if (pods.length > 0) return;
    const next = clone(rs);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter(
      (f) => f !== 'foregroundDeletion',
    );
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
    this.rest.finishIfReleased(
      RS,
      rs.metadata.namespace!,
      this.rest.store.update(RS, rs.metadata.namespace!, next),
    );
  }

  private writeStatus(rs: ReplicaSet): void {
    const { store } = this.rest;
    const cur = store.get(RS, rs.metadata.namespace!, rs.metadata.name!) as ReplicaSet | undefined;
    if (!cur) return;
    const active = (store.list(PODS, rs.metadata.namespace!) as Pod[]).filter(
      (p) => controllerRef(p)?.uid === cur.metadata.uid && isActive(p),
    );
    const template = requirementsOf({ matchLabels: cur.spec.template.metadata?.labels ?? {} });
    const ready = active.filter((p) => isPodReady(p.status));
    const minReadyMs = (cur.spec.minReadySeconds ?? 0) * 1000;
    const available = ready.filter((p) => {
      const since = p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
      return (
        minReadyMs === 0 || (since !== undefined && Date.parse(since) + minReadyMs <= Date.now())
      );
    });
    // Zero counts are omitted, as the API server's `omitempty` does; `replicas` is always there.
    const status: ReplicaSetStatus = { replicas: active.length };
    const fully = active.filter((p) => matchesLabels(template, p.metadata.labels)).length;
    if (fully) status.fullyLabeledReplicas = fully;
    if (ready.length) status.readyReplicas = ready.length;
    if (available.length) status.availableReplicas = available.length;
    status.observedGeneration = cur.metadata.generation ?? 1;
    if (JSON.stringify(status) !== JSON.stringify(cur.status))
      store.update(RS, cur.metadata.namespace!, { ...cur, status });
  }
}
