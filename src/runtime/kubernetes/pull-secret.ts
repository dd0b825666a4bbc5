/**
 * The imagePullSecret for Gantry's registry: one Secret of type `kubernetes.io/dockerconfigjson`
 * per namespace, made and kept current by Gantry, named by every pod spec Gantry writes. Its value
 * never leaves these calls: never logged, never in an error message.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { GantryError } from '../../errors.js';
import { dockerConfigJson, type RegistryAccess } from '../../registry/credentials.js';
import { MERGE_PATCH, kubeError, statusOf, type Kube } from './kube-client.js';
import { LABEL, MANAGED_BY, PULL_SECRET_NAME } from './names.js';

const KEY = '.dockerconfigjson';

/** The Secret for `registry`'s credentials, or undefined when it needs none. Pure. */
export function pullSecretManifest(
  registry: RegistryAccess | undefined,
  namespace: string,
): V1Secret | undefined {
  if (registry?.credentials === undefined) return undefined;
  const json = dockerConfigJson(registry.address, registry.credentials);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: { name: PULL_SECRET_NAME, namespace, labels: { [LABEL.managed]: MANAGED_BY } },
    data: { [KEY]: Buffer.from(json).toString('base64') },
  };
}

/**
 * Makes the pull Secret exist with `body`'s credentials before a pod that names it is made (the
 * kubelet would fail the pull). Rotated credentials are written over the old; a same-named
 * Secret Gantry did not make is refused. Safe to repeat.
 */
export async function ensurePullSecret(kube: Kube, body: V1Secret): Promise<void> {
  const want = body.data?.[KEY];
  let cur: V1Secret | undefined;
  try {
    cur = await kube.core.readNamespacedSecret({
      name: PULL_SECRET_NAME,
      namespace: kube.namespace,
    });
  } catch (e) {
    if (statusOf(e) !== 404) throw kubeError(e, `read secret ${PULL_SECRET_NAME}`);
  }
  if (cur === undefined) {
    try {
      await kube.core.createNamespacedSecret({ namespace: kube.namespace, body });
      return;
    } catch (e) {
      // Made meanwhile by another start: the next one checks its value.
      if (statusOf(e) === 409) return;
      throw kubeError(e, `create secret ${PULL_SECRET_NAME}`, 'GANTRY_ERR_INSTANCE_START');
    }
  }
  if (cur.metadata?.labels?.[LABEL.managed] !== MANAGED_BY) {
    throw new GantryError(
      'GANTRY_ERR_INSTANCE_CONFLICT',
      `secret ${PULL_SECRET_NAME} in ${kube.namespace} was not made by Gantry; remove or rename it`,
    );
  }
  if (cur.data?.[KEY] === want) return;
  try {
    await kube.core.patchNamespacedSecret(
      { name: PULL_SECRET_NAME, namespace: kube.namespace, body: { data: body.data } },
      MERGE_PATCH,
    );
  } catch (e) {
    throw kubeError(e, `update secret ${PULL_SECRET_NAME}`);
  }
}
