/**
 * Service proxy (`services/{name}[:{port}]/proxy/{path}`): what kube-proxy would do for a
 * ClusterIP — send the request to one ready, non-terminating pod the Service selects, round robin.
 */
import { isPodReady } from './pod-status.js';
import { findResource } from './resources.js';
import { matchesLabels } from './selectors.js';
import { StatusError } from './status.js';
import type { Store } from './store.js';
import type { KObject, Pod } from './types.js';

const PODS = findResource('', 'pods')!;

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
}

let turn = 0;

/** The pod and container port a request to this Service (and port name or number) goes to. */
export function pickEndpoint(
  store: Store,
  svc: KObject,
  port: string | undefined,
): { pod: Pod; targetPort: string } {
  const spec = (svc.spec ?? {}) as { selector?: Record<string, string>; ports?: ServicePort[] };
  const name = svc.metadata.name;
  const ports = spec.ports ?? [];
  // As the real API server: no port means the port with no name (a named port must be asked
  // for by name or number; the real one answers 503 "no endpoints available" otherwise).
  const sp =
    port === undefined || port === ''
      ? ports.find((p) => !p.name)
      : ports.find((p) => p.name === port || String(p.port) === port);
  if (!sp)
    throw new StatusError(
      503,
      'ServiceUnavailable',
      `no endpoints available for service "${name}"${port ? `:${port}` : ''}`,
    );
  const selector = Object.entries(spec.selector ?? {}).map(([key, value]) => ({
    op: 'eq' as const,
    key,
    value,
  }));
  const ready = (store.list(PODS, svc.metadata.namespace) as Pod[]).filter(
    (p) =>
      selector.length > 0 &&
      matchesLabels(selector, p.metadata.labels) &&
      !p.metadata.deletionTimestamp &&
      isPodReady(p.status),
  );
  if (ready.length === 0)
    throw new StatusError(
      503,
      'ServiceUnavailable',
      `no endpoints available for service "${name}"`,
    );
  const pod = ready[turn++ % ready.length]!;
  return { pod, targetPort: String(sp.targetPort ?? sp.port) };
}
