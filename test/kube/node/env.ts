/**
 * A container's environment as the kubelet computes it: `envFrom` first, then `env` (values,
 * secretKeyRef, configMapKeyRef, fieldRef), Secrets and ConfigMaps read from the API server.
 */
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';

/** The container cannot be configured (a missing Secret or key): CreateContainerConfigError. */
export class ConfigError extends Error {}

type Kind = 'secret' | 'configmap';

async function data(core: CoreV1Api, ns: string, kind: Kind, name: string, optional: boolean) {
  try {
    if (kind === 'secret') {
      const s = await core.readNamespacedSecret({ name, namespace: ns });
      return Object.fromEntries(
        Object.entries(s.data ?? {}).map(([k, v]) => [
          k,
          Buffer.from(v, 'base64').toString('utf8'),
        ]),
      );
    }
    return (await core.readNamespacedConfigMap({ name, namespace: ns })).data ?? {};
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
    if (optional) return undefined;
    throw new ConfigError(`${kind} "${name}" not found`);
  }
}

function fieldRef(pod: V1Pod, path: string, podIp: string, hostIp: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m)
    return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return podIp;
    case 'status.hostIP':
      return hostIp;
    default:
      return '';
  }
}

/** `KEY=value` lines for the container. */
export async function resolveEnv(
  core: CoreV1Api,
  pod: V1Pod,
  c: V1Container,
  ips: { podIp: string; hostIp: string },
): Promise<string[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();
  for (const from of c.envFrom ?? []) {
    const ref = from.secretRef
      ? { kind: 'secret' as const, name: from.secretRef.name, optional: from.secretRef.optional }
      : from.configMapRef
        ? {
            kind: 'configmap' as const,
            name: from.configMapRef.name,
            optional: from.configMapRef.optional,
          }
        : undefined;
    if (!ref) continue;
    const d = await data(core, ns, ref.kind, ref.name ?? '', ref.optional ?? false);
    for (const [k, v] of Object.entries(d ?? {})) env.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of c.env ?? []) {
    const vf = e.valueFrom;
    let value: string | undefined = e.value ?? '';
    const keyRef = vf?.secretKeyRef ?? vf?.configMapKeyRef;
    if (keyRef) {
      const kind: Kind = vf?.secretKeyRef ? 'secret' : 'configmap';
      const d = await data(core, ns, kind, keyRef.name ?? '', keyRef.optional ?? false);
      value = d?.[keyRef.key];
      if (d && value === undefined && !keyRef.optional)
        throw new ConfigError(
          `couldn't find key ${keyRef.key} in ${kind === 'secret' ? 'Secret' : 'ConfigMap'} ${ns}/${keyRef.name}`,
        );
    } else if (vf?.fieldRef) value = fieldRef(pod, vf.fieldRef.fieldPath, ips.podIp, ips.hostIp);
    if (value !== undefined) env.set(e.name, value);
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}
