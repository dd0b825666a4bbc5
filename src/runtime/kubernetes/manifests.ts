/**
 * What the API server is asked to create, built purely so tests assert on the data (builders
 * return, a thin executor sends). One ReplicaSet per release of a revision of an app environment;
 * its pod template comes from the instance spec: image by digest, env (the release's config vars),
 * secrets from the release's Secret, resources, and a readiness probe made from the app's health
 * check.
 */
import type {
  V1EnvVar,
  V1OwnerReference,
  V1Probe,
  V1ReplicaSet,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import type { InstanceSpec } from '../runtime.js';
import {
  ANNOTATION,
  CONTAINER,
  LABEL,
  MANAGED_BY,
  PORT_NAME,
  formatSlots,
  processLabel,
  releaseLabel,
  replicaSetName,
  secretName,
  serviceName,
} from './names.js';

export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

/**
 * The labels every pod of a release of a revision carries; also the ReplicaSet's selector (so never
 * changed). The release is in the selector: two releases of one commit are two ReplicaSets whose
 * pods must not be counted as each other's. Specs from before releases carry none.
 */
export function revisionLabels(
  spec: Pick<InstanceSpec, 'app' | 'env' | 'revision' | 'release' | 'process'>,
): Record<string, string> {
  const release = releaseLabel(spec.release);
  const process = processLabel(spec.process);
  return {
    [LABEL.managed]: MANAGED_BY,
    [LABEL.app]: spec.app,
    [LABEL.env]: spec.env,
    [LABEL.revision]: spec.revision,
    ...(release === undefined ? {} : { [LABEL.release]: release }),
    // Each process type is its own ReplicaSet, whose pods are never counted as another's.
    ...(process === undefined ? {} : { [LABEL.process]: process }),
  };
}

/**
 * The container environment, sorted so the same spec always builds the same template. Later
 * layers win as on Docker: `PORT` < vars < secrets (by reference to the Secret, never by value)
 * < `GANTRY_*`. The slot is not known when the pod is created (pods are claimed for slots after
 * the ReplicaSet controller made them), so `GANTRY_POD` names the pod instead of `GANTRY_SLOT`.
 */
export function containerEnv(spec: InstanceSpec): V1EnvVar[] {
  // The release's own Secret: a rollback's pods read that release's values, never newer ones.
  const secret = secretName(spec.app, spec.env, spec.release, spec.process);
  const vars = new Map<string, V1EnvVar>();
  const put = (v: V1EnvVar): void => void vars.set(v.name, v);
  put({ name: 'PORT', value: String(spec.port) });
  for (const [name, value] of Object.entries(spec.vars)) put({ name, value });
  for (const name of Object.keys(spec.secrets)) {
    put({ name, valueFrom: { secretKeyRef: { name: secret, key: name } } });
  }
  put({ name: 'GANTRY_APP', value: spec.app });
  put({ name: 'GANTRY_ENV', value: spec.env });
  put({ name: 'GANTRY_REVISION', value: spec.revision });
  if (spec.process !== undefined) put({ name: 'GANTRY_PROCESS', value: spec.process });
  put({ name: 'GANTRY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  return [...vars.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The readiness probe the kubelet runs, from the app's health check. The controller still makes
 * its own checks (through the pod proxy) and decides; this one keeps an unready pod out of the
 * Service's endpoints and answers tcp and exec checks, which the proxy cannot make.
 */
export function readinessProbe(spec: InstanceSpec): V1Probe | undefined {
  const r = spec.readiness;
  if (r === undefined) return undefined;
  const timing = {
    periodSeconds: Math.max(1, Math.ceil(r.intervalMs / 1000)),
    timeoutSeconds: Math.max(1, Math.ceil(r.timeoutMs / 1000)),
    successThreshold: 1,
    failureThreshold: 1,
  };
  switch (r.check.kind) {
    case 'http':
      return { httpGet: { path: r.check.path, port: PORT_NAME }, ...timing };
    case 'tcp':
      return { tcpSocket: { port: PORT_NAME }, ...timing };
    case 'exec':
      return { exec: { command: [...r.check.command] }, ...timing };
  }
}

/** CPU in millicores and memory in bytes, as limits and equal requests (a guaranteed pod). */
export function resources(
  spec: InstanceSpec,
): { limits: Record<string, string>; requests: Record<string, string> } | undefined {
  const limits: Record<string, string> = {};
  if (spec.cpu !== undefined) limits.cpu = `${Math.max(1, Math.round(spec.cpu * 1000))}m`;
  if (spec.memoryBytes !== undefined) limits.memory = String(spec.memoryBytes);
  if (Object.keys(limits).length === 0) return undefined;
  return { limits, requests: { ...limits } };
}

/** The ReplicaSet of one release of a revision, holding `slots` (its replicas are their number). Pure. */
export function replicaSetManifest(
  spec: InstanceSpec,
  namespace: string,
  slots: readonly string[],
  /** The imagePullSecret to name (pull-secret.ts), when the registry needs credentials. */
  pullSecret?: string,
): V1ReplicaSet {
  const labels = revisionLabels(spec);
  const probe = readinessProbe(spec);
  const res = resources(spec);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: replicaSetName(spec.app, spec.env, spec.revision, spec.release, spec.process),
      namespace,
      labels,
      annotations: { [ANNOTATION.slots]: formatSlots(slots), [ANNOTATION.image]: spec.image },
    },
    spec: {
      replicas: new Set(slots).size,
      selector: { matchLabels: labels },
      template: {
        // The rollout that made the ReplicaSet, until a claim relabels the pod with its own: a pod
        // the ReplicaSet controller adds beyond Gantry's slots (a scale by hand) is then known as
        // the record's own, a surplus to remove, rather than a stray of an unknown rollout.
        metadata: { labels: { ...labels, [LABEL.rollout]: spec.rolloutId } },
        spec: {
          containers: [
            {
              name: CONTAINER,
              image: spec.image,
              // By digest: what the registry holds under it can never change, so never re-pull.
              imagePullPolicy: 'IfNotPresent',
              // `args` is the image's CMD (`command` would replace its ENTRYPOINT), as on Docker.
              ...(spec.command === undefined ? {} : { args: [...spec.command] }),
              // Only the routed process has a port for the Service to target.
              ...(spec.routed === false
                ? {}
                : { ports: [{ name: PORT_NAME, containerPort: spec.port, protocol: 'TCP' }] }),
              env: containerEnv(spec),
              ...(probe ? { readinessProbe: probe } : {}),
              ...(res ? { resources: res } : {}),
            },
          ],
          restartPolicy: 'Always',
          // The pause container becomes PID 1, as Docker's init does on the Docker target: a server
          // that would run as PID 1 itself ignores SIGTERM, and every stop would wait out the grace.
          shareProcessNamespace: true,
          terminationGracePeriodSeconds: spec.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS,
          // The app gets no API credentials and no service-link variables it did not ask for.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(pullSecret ? { imagePullSecrets: [{ name: pullSecret }] } : {}),
        },
      },
    },
  };
}

/**
 * The Secret holding secret values (the only place they are written). With a release: that
 * release's values, immutable (a running pod's values never change under it; a restart reads the
 * same ones) and owned by the release's ReplicaSet, so the garbage collector removes it with the
 * ReplicaSet. `owner` is undefined until that ReplicaSet exists. Without one: the mutable Secret of
 * the environment, as before releases. Pure.
 */
export function secretManifest(
  spec: Pick<InstanceSpec, 'app' | 'env' | 'secrets' | 'release' | 'process'>,
  namespace: string,
  owner?: V1ReplicaSet,
): V1Secret {
  const release = releaseLabel(spec.release);
  const ref = owner === undefined ? undefined : ownerReference(owner);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: secretName(spec.app, spec.env, spec.release, spec.process),
      namespace,
      labels: {
        [LABEL.managed]: MANAGED_BY,
        [LABEL.app]: spec.app,
        [LABEL.env]: spec.env,
        ...(release === undefined ? {} : { [LABEL.release]: release }),
      },
      ...(ref === undefined ? {} : { ownerReferences: [ref] }),
    },
    ...(release === undefined ? {} : { immutable: true }),
    stringData: { ...spec.secrets },
  };
}

/**
 * A reference to a ReplicaSet as the owner of a release's Secret. Not `blockOwnerDeletion`: that
 * needs `update` on the ReplicaSet's finalizers, and nothing waits for the Secret to go. Pure.
 */
export function ownerReference(rs: V1ReplicaSet): V1OwnerReference | undefined {
  const name = rs.metadata?.name;
  const uid = rs.metadata?.uid;
  if (name === undefined || uid === undefined) return undefined;
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid };
}

/**
 * The Service that is a route of the edge: it selects the pods the edge has labelled with the
 * route's id, on the named container port, so it never needs the app's port number. Pure.
 */
export function serviceManifest(route: { id: string; port: number }, namespace: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: serviceName(route.id),
      namespace,
      labels: { [LABEL.managed]: MANAGED_BY, [LABEL.route]: route.id },
    },
    spec: {
      type: 'ClusterIP',
      selector: { [LABEL.managed]: MANAGED_BY, [LABEL.route]: route.id },
      ports: [{ name: PORT_NAME, port: route.port, targetPort: PORT_NAME, protocol: 'TCP' }],
    },
  };
}
