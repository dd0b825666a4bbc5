/**
 * The object store: every object of every resource under one global, monotonically increasing
 * resourceVersion (as etcd's revision), with a window of past changes for watches to resume from.
 */
import { randomUUID } from 'node:crypto';
import { apiVersionOf, type ResourceDef } from './resources.js';
import { expired } from './status.js';
import { clone, type KObject } from './types.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change; `previous` is the object before it (for selector transitions). */
export interface Change {
  readonly rv: number;
  readonly type: ChangeType;
  readonly def: ResourceDef;
  readonly namespace: string;
  readonly object: KObject;
  readonly previous?: KObject;
}

/** How many past changes a watch can resume from before the window compacts by itself. */
const HISTORY_LIMIT = 10_000;
/** Resource versions start high, as a real cluster's do: clients must not assume small numbers. */
const FIRST_RV = 1000;

function keyOf(def: ResourceDef, namespace: string, name: string): string {
  return `${def.plural}|${namespace}|${name}`;
}

/** RFC 3339 with seconds, as the API server writes timestamps. */
export function timestamp(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class Store {
  private rv = FIRST_RV;
  private readonly objects = new Map<string, KObject>();
  private history: Change[] = [];
  /** Changes at or before this version are gone: watches from an older version get 410. */
  private oldestRv = FIRST_RV;
  private readonly listeners = new Set<(c: Change) => void>();

  /** The current resourceVersion of the whole store (a list's `metadata.resourceVersion`). */
  get resourceVersion(): number {
    return this.rv;
  }

  /** A copy of one object, or undefined. */
  get(def: ResourceDef, namespace: string, name: string): KObject | undefined {
    const o = this.objects.get(keyOf(def, namespace, name));
    return o && clone(o);
  }

  /** Copies of a resource's objects in one namespace (or all with `undefined`), by name. */
  list(def: ResourceDef, namespace: string | undefined): KObject[] {
    const prefix = namespace === undefined ? `${def.plural}|` : `${def.plural}|${namespace}|`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, o]) => clone(o))
      .sort((a, b) =>
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace}/${b.metadata.name}`,
        ),
      );
  }

  /**
   * Stores a new object: fills uid, creationTimestamp, resourceVersion, generation. The caller has
   * checked that the name is free.
   */
  create(def: ResourceDef, namespace: string, obj: KObject): KObject {
    const o = clone(obj);
    o.apiVersion = apiVersionOf(def);
    o.kind = def.kind;
    o.metadata.namespace = def.namespaced ? namespace : undefined;
    if (!def.namespaced) delete o.metadata.namespace;
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = timestamp();
    if (o.spec !== undefined) o.metadata.generation = 1;
    return this.commit('ADDED', def, namespace, o, undefined);
  }

  /**
   * Replaces an existing object with `next` (identity fields kept from the stored one); bumps
   * `generation` when `spec` changed. Returns the stored copy, or the old one when nothing changed.
   */
  update(def: ResourceDef, namespace: string, next: KObject): KObject {
    const name = next.metadata.name!;
    const cur = this.objects.get(keyOf(def, namespace, name));
    if (!cur) throw new Error(`update of missing ${def.plural} ${namespace}/${name}`);
    const o = clone(next);
    o.apiVersion = apiVersionOf(def);
    o.kind = def.kind;
    o.metadata.uid = cur.metadata.uid;
    o.metadata.creationTimestamp = cur.metadata.creationTimestamp;
    o.metadata.resourceVersion = cur.metadata.resourceVersion;
    o.metadata.generation = cur.metadata.generation;
    if (cur.metadata.deletionTimestamp) {
      o.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
      o.metadata.deletionGracePeriodSeconds = cur.metadata.deletionGracePeriodSeconds;
    }
    if (JSON.stringify(o) === JSON.stringify(cur)) return clone(cur);
    if (o.spec !== undefined && JSON.stringify(o.spec) !== JSON.stringify(cur.spec)) {
      o.metadata.generation = (cur.metadata.generation ?? 0) + 1;
    }
    return this.commit('MODIFIED', def, namespace, o, cur);
  }

  /** Sets deletionTimestamp (a graceful delete in progress), a MODIFIED change. */
  markDeleting(
    def: ResourceDef,
    namespace: string,
    name: string,
    graceSeconds: number,
  ): KObject | undefined {
    const cur = this.objects.get(keyOf(def, namespace, name));
    if (!cur) return undefined;
    if (cur.metadata.deletionTimestamp) return clone(cur);
    const o = clone(cur);
    o.metadata.deletionTimestamp = timestamp(new Date(Date.now() + graceSeconds * 1000));
    o.metadata.deletionGracePeriodSeconds = graceSeconds;
    return this.commit('MODIFIED', def, namespace, o, cur);
  }

  /** Removes an object: a DELETED change carrying the object at its final resourceVersion. */
  remove(def: ResourceDef, namespace: string, name: string): KObject | undefined {
    const cur = this.objects.get(keyOf(def, namespace, name));
    if (!cur) return undefined;
    return this.commit('DELETED', def, namespace, clone(cur), cur);
  }

  private commit(
    type: ChangeType,
    def: ResourceDef,
    namespace: string,
    o: KObject,
    previous: KObject | undefined,
  ): KObject {
    this.rv += 1;
    o.metadata.resourceVersion = String(this.rv);
    const key = keyOf(def, namespace, o.metadata.name!);
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, o);
    const change: Change = {
      rv: this.rv,
      type,
      def,
      namespace,
      object: clone(o),
      ...(previous ? { previous: clone(previous) } : {}),
    };
    this.history.push(change);
    if (this.history.length > HISTORY_LIMIT)
      this.expireBefore(this.history[this.history.length - HISTORY_LIMIT]!.rv);
    this.notify(change);
    return clone(o);
  }

  private readonly pending: Change[] = [];
  private notifying = false;

  /**
   * Listeners may write (a controller reacting to a change): their changes are delivered after
   * the current one reached every listener, so each listener sees versions in increasing order.
   */
  private notify(change: Change): void {
    this.pending.push(change);
    if (this.notifying) return;
    this.notifying = true;
    try {
      for (let c = this.pending.shift(); c; c = this.pending.shift()) {
        for (const l of [...this.listeners]) l(c);
      }
    } finally {
      this.notifying = false;
    }
  }

  /** Calls `fn` synchronously after every change; returns the unsubscribe function. */
  subscribe(fn: (c: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * The changes after `rv`, for a watch resuming there; throws 410 Expired when the window no
   * longer reaches back that far.
   */
  changesSince(rv: number): Change[] {
    if (rv < this.oldestRv) throw expired(rv, this.oldestRv);
    return this.history.filter((c) => c.rv > rv);
  }

  /** Forgets the history before `rv`: a watch from an older version then gets 410 Gone. */
  expireBefore(rv: number): void {
    this.oldestRv = Math.max(this.oldestRv, Math.min(rv, this.rv));
    this.history = this.history.filter((c) => c.rv > this.oldestRv);
  }

  /**
   * Forgets all history, as an API server whose watch cache restarted: a watch from any
   * resourceVersion handed out so far gets 410 Gone (clients must relist).
   */
  compact(): void {
    // A version of its own, so a list made after the compaction can start a watch again.
    this.rv += 1;
    this.oldestRv = this.rv;
    this.history = [];
  }
}
