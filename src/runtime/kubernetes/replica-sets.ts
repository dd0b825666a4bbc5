/**
 * The slot bookkeeping of a revision's ReplicaSet: its `gantry.dev/slots` annotation and its
 * replicas change together, in one merge patch carrying the resourceVersion it was computed from.
 * A write based on an old read is refused with 409 Conflict by the API server; it is read again
 * and recomputed (optimistic concurrency, as every Kubernetes controller does).
 */
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { GantryError } from '../../errors.js';
import type { InstanceSpec } from '../runtime.js';
import { MERGE_PATCH, kubeError, statusOf, type Kube } from './kube-client.js';
import { replicaSetManifest } from './manifests.js';
import { isManagedAs, refuseForeign } from './adoption.js';
import { ANNOTATION, LABEL, formatSlots, parseSlots } from './names.js';

const CONFLICT_RETRIES = 8;

/** The slots a ReplicaSet holds. */
export function slotsOf(rs: V1ReplicaSet): string[] {
  return parseSlots(rs.metadata?.annotations?.[ANNOTATION.slots]);
}

/**
 * The slots a ReplicaSet still holds once someone scaled it below them by hand (`kubectl scale`):
 * the ReplicaSet controller deleted pods to match, so as many slots as replicas are missing, taken
 * from those no live pod holds (`held`), go with them. Our own writes always keep replicas equal to
 * the slots, so anything else is left as it is. Pure.
 */
export function liveSlots(
  slots: readonly string[],
  replicas: number | undefined,
  held: ReadonlySet<string>,
): string[] {
  if (replicas === undefined || replicas >= slots.length) return [...slots];
  let gone = slots.length - replicas;
  return slots.filter((s) => held.has(s) || gone-- <= 0);
}

/** Reads a ReplicaSet; undefined when there is none. */
export async function readReplicaSet(kube: Kube, name: string): Promise<V1ReplicaSet | undefined> {
  try {
    return await kube.apps.readNamespacedReplicaSet({ name, namespace: kube.namespace });
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw kubeError(e, `read replicaset ${name}`);
  }
}

/** The merge patch that sets a ReplicaSet's slots and replicas, if it is still at `resourceVersion`. */
export function slotsPatch(slots: readonly string[], resourceVersion: string | undefined): object {
  return {
    metadata: {
      ...(resourceVersion ? { resourceVersion } : {}),
      annotations: { [ANNOTATION.slots]: formatSlots(slots) },
    },
    spec: { replicas: new Set(slots).size },
  };
}

/**
 * Makes `spec.slot` one of the slots of its revision's ReplicaSet, creating the ReplicaSet when
 * there is none. Refuses a ReplicaSet of the same revision that runs another image. `held`: the
 * slots live pods hold, to forget the ones a scale-down by hand took away (see `liveSlots`).
 */
export async function addSlot(
  kube: Kube,
  name: string,
  spec: InstanceSpec,
  held: ReadonlySet<string> = new Set(),
  pullSecret?: string,
): Promise<void> {
  for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
    const rs = await readReplicaSet(kube, name);
    if (rs === undefined) {
      try {
        await kube.apps.createNamespacedReplicaSet({
          namespace: kube.namespace,
          body: replicaSetManifest(spec, kube.namespace, [spec.slot], pullSecret),
        });
        return;
      } catch (e) {
        if (statusOf(e) === 409) continue; // created meanwhile: read it and add the slot
        throw kubeError(e, `create replicaset ${name}`, 'GANTRY_ERR_INSTANCE_START');
      }
    }
    refuseForeign('replicaset', name, kube.namespace, rs.metadata?.labels, {
      [LABEL.app]: spec.app,
      [LABEL.env]: spec.env,
    });
    const image = rs.metadata?.annotations?.[ANNOTATION.image];
    if (image !== undefined && image !== spec.image) {
      throw new GantryError(
        'GANTRY_ERR_INSTANCE_CONFLICT',
        `replicaset ${name} runs ${image}, not ${spec.image}; remove it first`,
      );
    }
    const slots = slotsOf(rs);
    if (slots.includes(spec.slot) && rs.spec?.replicas === slots.length) return;
    const next = [...new Set([...liveSlots(slots, rs.spec?.replicas, held), spec.slot])];
    try {
      await kube.apps.patchNamespacedReplicaSet(
        { name, namespace: kube.namespace, body: slotsPatch(next, rs.metadata?.resourceVersion) },
        MERGE_PATCH,
      );
      return;
    } catch (e) {
      if (statusOf(e) === 409) continue;
      throw kubeError(e, `scale replicaset ${name}`);
    }
  }
  throw conflictError(name);
}

/**
 * Takes `slot` out of a ReplicaSet (one replica fewer), and puts replicas back to the number of
 * slots when someone changed them by hand: a scale-up's extra pods go (the caller marks which), a
 * scale-down's lost slots are forgotten (`held`, see `liveSlots`). Returns whether the ReplicaSet
 * is left holding no slot. A ReplicaSet that is gone holds none.
 */
export async function removeSlot(
  kube: Kube,
  name: string,
  slot: string,
  held: ReadonlySet<string> = new Set(),
): Promise<boolean> {
  for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
    const rs = await readReplicaSet(kube, name);
    // One Gantry did not make holds none of its slots, and is never scaled by it.
    if (rs === undefined || !isManagedAs(rs.metadata?.labels, {})) return true;
    const slots = slotsOf(rs);
    const next = liveSlots(slots, rs.spec?.replicas, held).filter((s) => s !== slot);
    if (next.length === slots.length && rs.spec?.replicas === next.length) return next.length === 0;
    try {
      await kube.apps.patchNamespacedReplicaSet(
        { name, namespace: kube.namespace, body: slotsPatch(next, rs.metadata?.resourceVersion) },
        MERGE_PATCH,
      );
      return next.length === 0;
    } catch (e) {
      if (statusOf(e) === 409) continue;
      if (statusOf(e) === 404) return true;
      throw kubeError(e, `scale replicaset ${name}`);
    }
  }
  throw conflictError(name);
}

/**
 * Deletes a ReplicaSet that holds no slot (its pods go with it); a gone one is a no-op. The
 * delete names the version read as empty, so a start that added a slot since wins; a 409 from
 * anything else (the ReplicaSet controller writes status right after a scale-down) reads again.
 */
export async function deleteIfEmpty(kube: Kube, name: string): Promise<void> {
  for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
    const rs = await readReplicaSet(kube, name);
    if (rs === undefined || slotsOf(rs).length > 0) return;
    if (!isManagedAs(rs.metadata?.labels, {})) return; // not Gantry's: never deleted by it
    try {
      await kube.apps.deleteNamespacedReplicaSet({
        name,
        namespace: kube.namespace,
        // In the body: with a body, the API server ignores the query's options.
        body: {
          propagationPolicy: 'Background',
          preconditions: { resourceVersion: rs.metadata?.resourceVersion },
        },
      });
      return;
    } catch (e) {
      const status = statusOf(e);
      if (status === 404) return;
      if (status === 409) continue;
      throw kubeError(e, `delete replicaset ${name}`);
    }
  }
  throw conflictError(name);
}

function conflictError(name: string): GantryError {
  return new GantryError(
    'GANTRY_ERR_KUBERNETES_UNAVAILABLE',
    `replicaset ${name} kept changing under ${CONFLICT_RETRIES} attempts to update it (409 Conflict); will retry`,
  );
}
