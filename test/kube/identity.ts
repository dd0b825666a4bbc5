/**
 * The controller's test identity on the real control plane: a namespace, a ServiceAccount, the
 * chart's Role (RBAC_RULES, the same rules charts/gantry/files/rbac-rules.yaml grants) bound to
 * it, and a kubeconfig with a token requested for it. The API server's RBAC enforces the Role:
 * anything else the runtime tried would be refused with 403.
 */
import {
  CoreV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1Role,
} from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RbacRule } from '../../src/runtime/kubernetes/rbac.js';

export const CONTROLLER_SA = 'gantry-controller';

/** The Role the chart grants in a target namespace (a builder). */
export function roleOf(namespace: string, rules: readonly RbacRule[]): V1Role {
  return {
    metadata: { name: 'gantry-runtime', namespace },
    rules: rules.map((r) => ({
      apiGroups: [r.apiGroup],
      resources: [r.resource],
      verbs: [...r.verbs],
    })),
  };
}

/** Makes the namespace and the identity; resolves with the service account's token. */
export async function makeControllerIdentity(
  admin: KubeConfig,
  namespace: string,
  rules: readonly RbacRule[],
): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: CONTROLLER_SA } },
  });
  await rbac.createNamespacedRole({ namespace, body: roleOf(namespace, rules) });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'gantry-runtime', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gantry-runtime' },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_SA, namespace }],
    },
  });
  // Pods are refused until the controller-manager made the namespace's default ServiceAccount.
  for (let i = 0; ; i++) {
    const sa = await core
      .readNamespacedServiceAccount({ name: 'default', namespace })
      .catch(() => undefined);
    if (sa) break;
    if (i > 120) throw new Error(`no default ServiceAccount in ${namespace} after 30 s`);
    await sleep(250);
  }
  const token = await core.createNamespacedServiceAccountToken({
    name: CONTROLLER_SA,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 24 * 3600 } },
  });
  const value = token.status?.token;
  if (!value) throw new Error('the TokenRequest returned no token');
  return value;
}
