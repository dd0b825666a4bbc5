/**
 * The Node the agent registers and keeps alive: its object (a builder), its status heartbeat and
 * its Lease in kube-node-lease, which the controller-manager's node lifecycle controller watches
 * (no renewal for 50 s and it marks the node NotReady, taints it and evicts its pods).
 */
import type {
  CoordinationV1Api,
  CoreV1Api,
  V1Node,
  V1NodeCondition,
} from '@kubernetes/client-node';
import { MERGE_PATCH } from '../../../src/runtime/kubernetes/kube-client.js';

export interface NodeIdentity {
  readonly name: string;
  readonly ip: string;
  /** The agent's HTTPS port (logs), the node's `daemonEndpoints.kubeletEndpoint`. */
  readonly port: number;
}

function conditions(at: Date): V1NodeCondition[] {
  const ok = (type: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status: 'False',
    reason,
    message,
    lastHeartbeatTime: at,
    lastTransitionTime: at,
  });
  return [
    ok('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    ok('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    ok('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    {
      type: 'Ready',
      status: 'True',
      reason: 'KubeletReady',
      message: 'gantry test node agent is posting ready status',
      lastHeartbeatTime: at,
      lastTransitionTime: at,
    },
  ];
}

/** The Node object, status included (a kubelet registers with its status). */
export function nodeObject(id: NodeIdentity, at: Date): V1Node {
  const resources = { cpu: '2', memory: '8Gi', pods: '110', 'ephemeral-storage': '20Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.name,
      labels: {
        'kubernetes.io/hostname': id.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'gantry.dev/test-node-agent': 'true',
      },
    },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: conditions(at),
      addresses: [
        { type: 'InternalIP', address: id.ip },
        { type: 'Hostname', address: id.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: id.port } },
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: 'gantry test node agent (Docker)',
        kernelVersion: '',
        kubeletVersion: 'v1.37.2',
        kubeProxyVersion: '',
        containerRuntimeVersion: 'docker://',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  };
}

/** Registers the node (again, if it exists from an earlier run of the same name). */
export async function registerNode(core: CoreV1Api, id: NodeIdentity): Promise<void> {
  await core.deleteNode({ name: id.name }).catch(() => undefined);
  await core.createNode({ body: nodeObject(id, new Date()) });
}

/** One heartbeat: the Lease renewed, and the Ready condition's heartbeat time. */
export async function heartbeat(
  core: CoreV1Api,
  leases: CoordinationV1Api,
  id: NodeIdentity,
): Promise<void> {
  const at = new Date();
  const micro = at.toISOString().replace('Z', '000Z');
  const body = {
    metadata: { name: id.name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: id.name, leaseDurationSeconds: 40, renewTime: micro },
  };
  const patch = (): Promise<unknown> =>
    leases.patchNamespacedLease(
      { name: id.name, namespace: 'kube-node-lease', body: { spec: body.spec } },
      MERGE_PATCH,
    );
  try {
    await patch();
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
    // Created without renewTime (the typed client would send a Date in milliseconds, which a
    // MicroTime refuses), then renewed by the untyped patch.
    await leases.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: {
        metadata: body.metadata,
        spec: { holderIdentity: id.name, leaseDurationSeconds: 40 },
      },
    });
    await patch();
  }
  const current = await core.readNodeStatus({ name: id.name });
  const conds = (current.status?.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: at }));
  await core.patchNodeStatus(
    { name: id.name, body: { status: { conditions: conds.length > 0 ? conds : conditions(at) } } },
    MERGE_PATCH,
  );
}
