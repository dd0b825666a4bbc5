/** What the API server fills in on create (defaulting) and checks (validation), for the kinds served. */
import { randomInt } from 'node:crypto';
import type { ResourceDef } from './resources.js';
import { matchesLabels, requirementsOf } from './selectors.js';
import { invalid } from './status.js';
import type { Container, KObject, Pod, ReplicaSet } from './types.js';

/** The node every pod is bound to: the simulator has one kubelet. */
export const NODE_NAME = 'kube-sim-node';

function defaultPullPolicy(image: string): Container['imagePullPolicy'] {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.split('/').pop() ?? image;
  return !last.includes(':') || last.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

/** The pod spec defaults the API server applies (restart policy, grace, pull policy, probe timings). */
export function defaultPodSpec(spec: Pod['spec']): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  for (const c of spec.containers ?? []) {
    c.imagePullPolicy ??= defaultPullPolicy(c.image ?? '');
    for (const p of c.ports ?? []) p.protocol ??= 'TCP';
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      if (!probe) continue;
      probe.periodSeconds ??= 10;
      probe.timeoutSeconds ??= 1;
      probe.successThreshold ??= 1;
      probe.failureThreshold ??= 3;
      if (probe.httpGet) probe.httpGet.scheme ??= 'HTTP';
    }
  }
}

function validatePodSpec(
  def: ResourceDef,
  name: string,
  spec: Pod['spec'] | undefined,
  field: string,
): void {
  if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) {
    throw invalid(def, name, `${field}.containers: Required value`);
  }
  for (const [i, c] of spec.containers.entries()) {
    if (!c.name) throw invalid(def, name, `${field}.containers[${i}].name: Required value`);
    if (!c.image) throw invalid(def, name, `${field}.containers[${i}].image: Required value`);
  }
}

/** Defaults and validates an object about to be created; mutates it. */
export function prepareCreate(def: ResourceDef, obj: KObject): void {
  const name = obj.metadata.name ?? '';
  switch (def.plural) {
    case 'pods': {
      const pod = obj as Pod;
      validatePodSpec(def, name, pod.spec, 'spec');
      defaultPodSpec(pod.spec);
      pod.spec.nodeName ??= NODE_NAME;
      pod.status = { phase: 'Pending' };
      break;
    }
    case 'replicasets': {
      const rs = obj as ReplicaSet;
      const reqs = requirementsOf(rs.spec?.selector);
      if (!rs.spec?.selector || reqs.length === 0)
        throw invalid(def, name, 'spec.selector: Required value');
      validatePodSpec(def, name, rs.spec.template?.spec, 'spec.template.spec');
      if (!matchesLabels(reqs, rs.spec.template.metadata?.labels)) {
        throw invalid(
          def,
          name,
          'spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`',
        );
      }
      rs.spec.replicas ??= 1;
      rs.spec.minReadySeconds ??= 0;
      defaultPodSpec(rs.spec.template.spec);
      rs.status = { replicas: 0 };
      break;
    }
    case 'services': {
      const spec = (obj.spec ??= {}) as Record<string, unknown>;
      spec.type ??= 'ClusterIP';
      spec.clusterIP ??= `10.96.${randomInt(0, 255)}.${randomInt(1, 255)}`;
      spec.sessionAffinity ??= 'None';
      for (const p of (spec.ports as Record<string, unknown>[] | undefined) ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      obj.status = { loadBalancer: {} };
      break;
    }
    case 'secrets':
      normalizeSecret(obj);
      break;
    case 'namespaces':
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
      break;
  }
}

/** `stringData` is write-only: the server folds it into base64 `data`. */
export function normalizeSecret(obj: KObject): void {
  const data = ((obj.data as Record<string, string> | undefined) ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(
    (obj.stringData as Record<string, string> | undefined) ?? {},
  )) {
    data[k] = Buffer.from(v, 'utf8').toString('base64');
  }
  delete obj.stringData;
  obj.data = data;
  obj.type ??= 'Opaque';
}
