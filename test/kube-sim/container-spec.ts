/** Builds the Docker container of a pod's first container (data only; the kubelet creates it). */
import type Docker from 'dockerode';
import { findResource } from './resources.js';
import type { Store } from './store.js';
import type { Container, Pod } from './types.js';

/** The label every container of a simulator carries: `close()` removes by it. */
export const SIM_LABEL = 'gantry-kube-sim';

/** A pod's container cannot be configured (a missing secret or key): CreateContainerConfigError. */
export class ConfigError extends Error {}

const SECRETS = findResource('', 'secrets')!;
const CONFIGMAPS = findResource('', 'configmaps')!;

function lookup(
  store: Store,
  pod: Pod,
  kind: 'secret' | 'configmap',
  name: string,
  key: string | undefined,
  optional: boolean,
): Record<string, string> | string | undefined {
  const ns = pod.metadata.namespace!;
  const obj = store.get(kind === 'secret' ? SECRETS : CONFIGMAPS, ns, name);
  if (!obj) {
    if (optional) return undefined;
    throw new ConfigError(`${kind} "${name}" not found`);
  }
  const raw = (obj.data as Record<string, string> | undefined) ?? {};
  const data =
    kind === 'secret'
      ? Object.fromEntries(
          Object.entries(raw).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
        )
      : raw;
  if (key === undefined) return data;
  if (!(key in data)) {
    if (optional) return undefined;
    throw new ConfigError(
      `couldn't find key ${key} in ${kind === 'secret' ? 'Secret' : 'ConfigMap'} ${ns}/${name}`,
    );
  }
  return data[key];
}

function fieldRef(pod: Pod, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'status.podIP':
    case 'status.hostIP':
      return '127.0.0.1';
    default:
      return '';
  }
}

/** The container's environment: `env` (values, secretKeyRef, configMapKeyRef, fieldRef) over `envFrom`. */
export function resolveEnv(store: Store, pod: Pod, c: Container): string[] {
  const env = new Map<string, string>();
  for (const from of c.envFrom ?? []) {
    const ref = from.secretRef
      ? { kind: 'secret' as const, name: from.secretRef.name }
      : from.configMapRef
        ? { kind: 'configmap' as const, name: from.configMapRef.name }
        : undefined;
    if (!ref) continue;
    const data = lookup(store, pod, ref.kind, ref.name, undefined, false) as Record<string, string>;
    for (const [k, v] of Object.entries(data)) env.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of c.env ?? []) {
    const vf = e.valueFrom;
    let value: string | undefined = e.value ?? '';
    if (vf?.secretKeyRef)
      value = lookup(
        store,
        pod,
        'secret',
        vf.secretKeyRef.name,
        vf.secretKeyRef.key,
        vf.secretKeyRef.optional ?? false,
      ) as string | undefined;
    else if (vf?.configMapKeyRef)
      value = lookup(
        store,
        pod,
        'configmap',
        vf.configMapKeyRef.name,
        vf.configMapKeyRef.key,
        vf.configMapKeyRef.optional ?? false,
      ) as string | undefined;
    else if (vf?.fieldRef) value = fieldRef(pod, vf.fieldRef.fieldPath);
    if (value !== undefined) env.set(e.name, value);
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** The container ports to publish: declared ones and the numeric ports probes use. */
export function portsToPublish(c: Container): number[] {
  const ports = new Set((c.ports ?? []).map((p) => p.containerPort));
  for (const probe of [c.readinessProbe, c.livenessProbe]) {
    const p = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
    if (typeof p === 'number') ports.add(p);
  }
  return [...ports];
}

/**
 * The create options of attempt `attempt` of the pod's first container. `hostPorts` holds ports
 * published before (a restart keeps its ports); others get a random port on 127.0.0.1.
 */
export function containerOptions(input: {
  simId: string;
  pod: Pod;
  container: Container;
  env: string[];
  attempt: number;
  hostPorts: ReadonlyMap<number, number>;
}): Docker.ContainerCreateOptions {
  const { pod, container: c } = input;
  const ports = portsToPublish(c);
  const uid = pod.metadata.uid!;
  return {
    name: `kube-sim-${input.simId}-${pod.metadata.name}-${uid.slice(0, 8)}-${input.attempt}`,
    Image: c.image,
    Hostname: pod.metadata.name!.slice(0, 63),
    ...(c.command ? { Entrypoint: c.command } : {}),
    ...(c.args ? { Cmd: c.args } : {}),
    ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
    Env: [`HOSTNAME=${pod.metadata.name}`, ...input.env],
    Labels: {
      [SIM_LABEL]: input.simId,
      'io.kubernetes.pod.name': pod.metadata.name!,
      'io.kubernetes.pod.namespace': pod.metadata.namespace!,
      'io.kubernetes.pod.uid': uid,
      'io.kubernetes.container.name': c.name,
    },
    ExposedPorts: Object.fromEntries(ports.map((p) => [`${p}/tcp`, {}])),
    HostConfig: {
      // With a shared process namespace the pod's pause container is PID 1 and reaps; the app is
      // not PID 1, so SIGTERM's default action applies. Docker's init gives the same.
      ...(pod.spec?.shareProcessNamespace ? { Init: true } : {}),
      PortBindings: Object.fromEntries(
        ports.map((p) => [
          `${p}/tcp`,
          [{ HostIp: '127.0.0.1', HostPort: String(input.hostPorts.get(p) ?? '') }],
        ]),
      ),
    },
  };
}
