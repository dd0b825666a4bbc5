/**
 * The Secrets that hold an app's secret values. A release's Secret is written once (immutable) and
 * owned by that release's ReplicaSet: a running pod's values never change under it, a rollback's
 * pods read the values of the release they run, and the garbage collector removes the Secret with
 * its ReplicaSet. Specs from before releases keep the environment's one mutable Secret.
 *
 * Values never leave these calls: never logged, never in an error message.
 */
import type { V1ReplicaSet, V1Secret } from '@kubernetes/client-node';
import { GantryError } from '../../errors.js';
import type { InstanceSpec } from '../runtime.js';
import { MERGE_PATCH, kubeError, statusOf, type Kube } from './kube-client.js';
import { ownerReference, secretManifest } from './manifests.js';
import { LABEL, MANAGED_BY, releaseLabel, secretName } from './names.js';

const ATTEMPTS = 8;

type SecretSpec = Pick<InstanceSpec, 'app' | 'env' | 'secrets' | 'release' | 'process'>;

/**
 * Makes the spec's Secret hold its values before a pod that reads them is made (a pod whose Secret
 * is missing fails with CreateContainerConfigError). `owner`: the release's ReplicaSet when it
 * exists already. A release's Secret left by a ReplicaSet that is gone (its garbage, not collected
 * yet) or holding other values while nothing owns it is replaced; one that holds other values
 * under its live ReplicaSet is refused: a release's values never change.
 */
export async function ensureSecret(
  kube: Kube,
  spec: SecretSpec,
  owner: V1ReplicaSet | undefined,
): Promise<void> {
  if (spec.release === undefined) return ensureEnvSecret(kube, spec);
  const name = secretName(spec.app, spec.env, spec.release, spec.process);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const cur = await readSecret(kube, name);
    if (cur === undefined) {
      try {
        await kube.core.createNamespacedSecret({
          namespace: kube.namespace,
          body: secretManifest(spec, kube.namespace, owner),
        });
        return;
      } catch (e) {
        if (statusOf(e) === 409) continue; // made meanwhile: check it
        throw kubeError(e, `create secret ${name}`, 'GANTRY_ERR_INSTANCE_START');
      }
    }
    assertOurs(cur, spec, name);
    const refs = cur.metadata?.ownerReferences ?? [];
    const ownedByLive =
      owner?.metadata?.uid !== undefined && refs.some((r) => r.uid === owner.metadata?.uid);
    const same = cur.immutable === true && sameValues(cur, spec.secrets);
    if (same && (refs.length === 0 || ownedByLive) && !cur.metadata?.deletionTimestamp) return;
    if (!same && ownedByLive) {
      throw new GantryError(
        'GANTRY_ERR_INSTANCE_CONFLICT',
        `secret ${name} holds other values than release v${spec.release} of ${spec.app}/${spec.env} while its replicaset runs; a release's values never change (remove that replicaset first)`,
      );
    }
    // The garbage of a ReplicaSet that is gone, or values nothing runs: made again, not adopted,
    // so the garbage collector cannot take it away from under the new ReplicaSet.
    await deleteSecret(kube, name, cur.metadata?.uid);
  }
  throw new GantryError(
    'GANTRY_ERR_KUBERNETES_UNAVAILABLE',
    `secret ${name} kept changing under ${ATTEMPTS} attempts to write it; will retry`,
  );
}

/**
 * Makes the release's ReplicaSet the owner of the release's Secret (made before the ReplicaSet,
 * which pods must not precede), so it goes when the ReplicaSet goes. Safe to repeat.
 */
export async function ownSecret(kube: Kube, spec: SecretSpec, owner: V1ReplicaSet): Promise<void> {
  const ref = ownerReference(owner);
  if (spec.release === undefined || ref === undefined) return;
  const name = secretName(spec.app, spec.env, spec.release, spec.process);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const cur = await readSecret(kube, name);
    // Deleted by hand meanwhile: made again, owned at once.
    if (cur === undefined) return ensureSecret(kube, spec, owner);
    assertOurs(cur, spec, name);
    if ((cur.metadata?.ownerReferences ?? []).some((r) => r.uid === ref.uid)) return;
    try {
      await kube.core.patchNamespacedSecret(
        {
          name,
          namespace: kube.namespace,
          // Metadata only: an immutable Secret's data cannot change, its owners can.
          body: {
            metadata: { resourceVersion: cur.metadata?.resourceVersion, ownerReferences: [ref] },
          },
        },
        MERGE_PATCH,
      );
      return;
    } catch (e) {
      const status = statusOf(e);
      if (status === 409 || status === 404) continue;
      throw kubeError(e, `set the owner of secret ${name}`);
    }
  }
  throw new GantryError(
    'GANTRY_ERR_KUBERNETES_UNAVAILABLE',
    `secret ${name} kept changing under ${ATTEMPTS} attempts to set its owner; will retry`,
  );
}

/** The environment's mutable Secret of specs from before releases: created, else updated. */
async function ensureEnvSecret(kube: Kube, spec: SecretSpec): Promise<void> {
  const name = secretName(spec.app, spec.env);
  const body = secretManifest(spec, kube.namespace);
  try {
    await kube.core.createNamespacedSecret({ namespace: kube.namespace, body });
    return;
  } catch (e) {
    if (statusOf(e) !== 409) throw kubeError(e, `create secret ${name}`);
  }
  const cur = await readSecret(kube, name);
  if (cur !== undefined) assertOurs(cur, spec, name);
  try {
    await kube.core.patchNamespacedSecret(
      { name, namespace: kube.namespace, body: { stringData: body.stringData } },
      MERGE_PATCH,
    );
  } catch (e) {
    throw kubeError(e, `update secret ${name}`);
  }
}

/** Refuses a same-named Secret Gantry did not make for this app environment (and release). */
function assertOurs(secret: V1Secret, spec: SecretSpec, name: string): void {
  const l = secret.metadata?.labels ?? {};
  const ours =
    l[LABEL.managed] === MANAGED_BY &&
    l[LABEL.app] === spec.app &&
    l[LABEL.env] === spec.env &&
    l[LABEL.release] === releaseLabel(spec.release);
  if (!ours) {
    throw new GantryError(
      'GANTRY_ERR_INSTANCE_CONFLICT',
      `secret ${name} was not created by Gantry for ${spec.app}/${spec.env}${spec.release === undefined ? '' : ` release v${spec.release}`}; not touching it`,
    );
  }
}

/** Whether a Secret's data are exactly `values` (compared here, never shown). */
function sameValues(secret: V1Secret, values: Readonly<Record<string, string>>): boolean {
  const data = secret.data ?? {};
  const keys = Object.keys(values);
  if (Object.keys(data).length !== keys.length) return false;
  return keys.every(
    (k) => data[k] !== undefined && Buffer.from(data[k], 'base64').toString('utf8') === values[k],
  );
}

async function readSecret(kube: Kube, name: string): Promise<V1Secret | undefined> {
  try {
    return await kube.core.readNamespacedSecret({ name, namespace: kube.namespace });
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw kubeError(e, `read secret ${name}`);
  }
}

/** Deletes exactly the Secret that was read (`uid`); one already gone or replaced is left. */
async function deleteSecret(kube: Kube, name: string, uid: string | undefined): Promise<void> {
  try {
    await kube.core.deleteNamespacedSecret({
      name,
      namespace: kube.namespace,
      ...(uid === undefined ? {} : { body: { preconditions: { uid } } }),
    });
  } catch (e) {
    const status = statusOf(e);
    if (status === 404 || status === 409) return;
    throw kubeError(e, `delete secret ${name}`);
  }
}
