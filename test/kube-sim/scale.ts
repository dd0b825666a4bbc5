/** The `/scale` subresource of ReplicaSets: an `autoscaling/v1` Scale view of spec and status. */
import { formatSelector } from './selectors.js';
import type { ReplicaSet } from './types.js';

/** The Scale object of a ReplicaSet. */
export function scaleOf(rs: ReplicaSet): Record<string, unknown> {
  const m = rs.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: rs.spec.replicas ?? 1 },
    status: { replicas: rs.status?.replicas ?? 0, selector: formatSelector(rs.spec.selector) },
  };
}
