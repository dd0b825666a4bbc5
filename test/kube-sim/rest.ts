/** The verbs on stored objects: get, list, create, replace, patch, delete — with the API server's rules. */
import { randomBytes } from 'node:crypto';
import { defaultPodSpec, prepareCreate, normalizeSecret } from './defaults.js';
import { applyPatch } from './patch.js';
import { apiVersionOf, findResource, type ResourceDef } from './resources.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  deleteSuccess,
  invalid,
  notFound,
  StatusError,
} from './status.js';
import type { Store } from './store.js';
import { clone, type KObject, type Pod } from './types.js';

/**
 * The next n conditional writes (PUT or PATCH naming a resourceVersion, DELETE with a
 * resourceVersion precondition) of a resource answer 409 Conflict, as if another writer had
 * just won (a fault tests inject).
 */
export class ConflictFaults {
  private readonly pending = new Map<string, number>();

  /** The next `n` conditional writes on `plural` get 409 Conflict. */
  add(plural: string, n: number): void {
    this.pending.set(plural, (this.pending.get(plural) ?? 0) + n);
  }

  /** Consumes one pending conflict of `plural`, if any. */
  take(plural: string): boolean {
    const n = this.pending.get(plural) ?? 0;
    if (n <= 0) return false;
    this.pending.set(plural, n - 1);
    return true;
  }
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5 random characters the API server appends to a `generateName`. */
export function randomSuffix(): string {
  return [...randomBytes(5)].map((b) => NAME_CHARS[b % NAME_CHARS.length]).join('');
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class Rest {
  constructor(
    readonly store: Store,
    readonly conflicts: ConflictFaults,
  ) {}

  /** GET of one object, or 404. */
  get(def: ResourceDef, ns: string, name: string): KObject {
    const o = this.store.get(def, ns, name);
    if (!o) throw notFound(def, name);
    return o;
  }

  /** A `XList` of the objects matching the query's selectors; items carry no kind, as the server's. */
  list(def: ResourceDef, ns: string | undefined, query: URLSearchParams): Record<string, unknown> {
    const labels = parseLabelSelector(query.get('labelSelector') ?? undefined);
    const fields = parseFieldSelector(query.get('fieldSelector') ?? undefined);
    const items = this.store
      .list(def, ns)
      .filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o))
      .map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    return {
      kind: `${def.kind}List`,
      apiVersion: apiVersionOf(def),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    };
  }

  /** POST: a new object; 409 AlreadyExists when the name is taken. */
  create(def: ResourceDef, ns: string, body: unknown): KObject {
    const obj = asObject(body);
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (def.namespaced && meta.namespace && meta.namespace !== ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (!meta.name && meta.generateName) {
      do meta.name = `${meta.generateName}${randomSuffix()}`;
      while (this.store.get(def, ns, meta.name));
    }
    if (!meta.name)
      throw invalid(def, '', 'metadata.name: Required value: name or generateName is required');
    if (meta.name.length > 253 || !DNS_LABEL.test(meta.name)) {
      throw invalid(
        def,
        meta.name,
        `metadata.name: Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
      );
    }
    delete meta.resourceVersion;
    delete meta.uid;
    delete meta.deletionTimestamp;
    if (def.namespaced && !this.store.get(NAMESPACES, '', ns)) {
      throw new StatusError(404, 'NotFound', `namespaces "${ns}" not found`, {
        name: ns,
        kind: 'namespaces',
      });
    }
    if (this.store.get(def, ns, meta.name)) throw alreadyExists(def, meta.name);
    prepareCreate(def, obj);
    return this.store.create(def, ns, obj);
  }

  /** PUT of the object (`sub` undefined) or its `status`: optimistic concurrency on resourceVersion. */
  replace(def: ResourceDef, ns: string, name: string, body: unknown, sub?: 'status'): KObject {
    const next = asObject(body);
    const cur = this.get(def, ns, name);
    if (next.metadata?.name !== undefined && next.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    next.metadata ??= {};
    next.metadata.name = name;
    return this.write(def, ns, cur, next, sub);
  }

  /** PATCH by Content-Type; a resourceVersion in the patched object must still be current. */
  patch(
    def: ResourceDef,
    ns: string,
    name: string,
    contentType: string,
    body: unknown,
    sub?: 'status',
  ): KObject {
    const cur = this.get(def, ns, name);
    const next = applyPatch(contentType, cur, body) as KObject;
    if (!next || typeof next !== 'object' || typeof next.metadata !== 'object')
      throw badRequest('the patch removed metadata');
    if (next.metadata.name !== name) throw badRequest('a patch may not change metadata.name');
    // A patch that does not mention resourceVersion is unconditional.
    if (
      next.metadata.resourceVersion === cur.metadata.resourceVersion &&
      !mentionsResourceVersion(body)
    ) {
      delete next.metadata.resourceVersion;
    }
    return this.write(def, ns, cur, next, sub);
  }

  private write(
    def: ResourceDef,
    ns: string,
    cur: KObject,
    next: KObject,
    sub: 'status' | undefined,
  ): KObject {
    const name = cur.metadata.name!;
    const rv = next.metadata.resourceVersion;
    const conditional = rv !== undefined && rv !== '';
    if (conditional && rv !== cur.metadata.resourceVersion) throw conflict(def, name);
    // Only a write conditioned on a resourceVersion can conflict: the real server retries
    // unconditional updates and patches itself, so an injected 409 hits conditional ones only.
    if (conditional && this.conflicts.take(def.plural)) throw conflict(def, name);
    if (next.metadata.uid !== undefined && next.metadata.uid !== cur.metadata.uid) {
      throw new StatusError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${cur.metadata.uid}`,
      );
    }
    let result: KObject;
    if (sub === 'status') result = { ...cur, status: next.status };
    else if (def.statusSubresource) result = { ...next, status: cur.status };
    else result = next;
    if (def.plural === 'secrets') {
      // Before normalizing: a patch's result may share its `data` object with the stored one.
      const before = JSON.stringify(cur.data ?? {});
      normalizeSecret(result);
      checkSecretUpdate(def, cur, before, result);
    }
    if (def.plural === 'pods' && sub !== 'status') checkPodUpdate(def, cur as Pod, result as Pod);
    const stored = this.store.update(def, ns, result);
    return this.finishIfReleased(def, ns, stored);
  }

  /** An object being deleted whose last finalizer went away is removed. */
  finishIfReleased(def: ResourceDef, ns: string, o: KObject): KObject {
    if (
      o.metadata.deletionTimestamp &&
      (o.metadata.finalizers ?? []).length === 0 &&
      def.plural !== 'pods'
    ) {
      this.store.remove(def, ns, o.metadata.name!);
    }
    return o;
  }

  /**
   * DELETE: pods terminate gracefully (deletionTimestamp now, removal once the kubelet stopped the
   * container; grace 0 removes at once); objects with finalizers wait for them; ReplicaSets
   * propagate to their pods as the policy says (the garbage collector in the ReplicaSet
   * controller deletes the dependents of owners that are gone).
   */
  delete(def: ResourceDef, ns: string, name: string, opts: DeleteOptions): unknown {
    const cur = this.get(def, ns, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== cur.metadata.uid) {
      throw new StatusError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
      throw conflict(def, name);
    if (pre?.resourceVersion && this.conflicts.take(def.plural)) throw conflict(def, name);
    if (def.plural === 'pods') {
      const grace =
        opts.gracePeriodSeconds ?? (cur as Pod).spec.terminationGracePeriodSeconds ?? 30;
      if (grace <= 0) return this.store.remove(def, ns, name);
      return this.store.markDeleting(def, ns, name, grace);
    }
    const policy = opts.propagationPolicy ?? 'Background';
    if (policy === 'Orphan') this.orphanDependents(cur);
    const finalizers = cur.metadata.finalizers ?? [];
    if (policy === 'Foreground' || finalizers.length > 0) {
      if (cur.metadata.deletionTimestamp) return cur;
      const next = clone(cur);
      if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) {
        next.metadata.finalizers = [...finalizers, 'foregroundDeletion'];
      }
      this.store.update(def, ns, next);
      return this.store.markDeleting(def, ns, name, 0);
    }
    const gone = this.store.remove(def, ns, name);
    return def.plural === 'services' ? gone : deleteSuccess(def, name, cur.metadata.uid);
  }

  private orphanDependents(owner: KObject): void {
    for (const def of DEPENDENT_KINDS) {
      for (const o of this.store.list(def, owner.metadata.namespace)) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === owner.metadata.uid)) continue;
        o.metadata.ownerReferences = refs.filter((r) => r.uid !== owner.metadata.uid);
        if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
        this.store.update(def, o.metadata.namespace!, o);
      }
    }
  }
}

const NAMESPACES = findResource('', 'namespaces')!;

/** The kinds whose objects may have owners the garbage collector follows (what the sim models). */
export const DEPENDENT_KINDS: readonly ResourceDef[] = ['pods', 'secrets', 'configmaps'].map(
  (plural) => findResource('', plural)!,
);

/**
 * An immutable Secret's data cannot change and it cannot be made mutable again (422, as the API
 * server's validation answers); its metadata (labels, owners) can.
 */
function checkSecretUpdate(def: ResourceDef, cur: KObject, curData: string, next: KObject): void {
  if (cur.immutable !== true) return;
  if (next.immutable !== true || JSON.stringify(next.data ?? {}) !== curData) {
    throw invalid(
      def,
      cur.metadata.name!,
      'data: Forbidden: field is immutable when `immutable` is set',
    );
  }
}

/**
 * A pod's spec is immutable but for container images (and fields the simulator does not model):
 * any other change is 422, as the API server's validation answers.
 */
function checkPodUpdate(def: ResourceDef, cur: Pod, next: Pod): void {
  if (!next.spec || !Array.isArray(next.spec.containers)) {
    throw invalid(def, cur.metadata.name!, 'spec: Required value');
  }
  defaultPodSpec(next.spec);
  next.spec.nodeName ??= cur.spec.nodeName;
  const withoutImages = (spec: Pod['spec']): string =>
    JSON.stringify({ ...spec, containers: spec.containers.map((c) => ({ ...c, image: '' })) });
  if (withoutImages(next.spec) !== withoutImages(cur.spec)) {
    throw invalid(
      def,
      cur.metadata.name!,
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    );
  }
}

function mentionsResourceVersion(body: unknown): boolean {
  return JSON.stringify(body ?? null).includes('"resourceVersion"');
}

function asObject(body: unknown): KObject {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('the request body must be a JSON object');
  return body as KObject;
}
