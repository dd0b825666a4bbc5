/**
 * The Kubernetes target as the controller wires it: credentials → runtime (with its watch caches)
 * → the Service edge over the same pod and Service caches. The only entry point the rest of
 * Gantry imports.
 */
import type { Logger } from 'pino';
import type { Edge } from '../../edge/edge.js';
import type { RegistryAccess } from '../../registry/credentials.js';
import type { Runtime } from '../runtime.js';
import { loadKubeConfig, type KubernetesTargetConfig } from './kube-client.js';
import { KubernetesRuntime } from './kubernetes-runtime.js';
import { KubernetesServiceEdge } from '../../edge/kubernetes/service-edge.js';

export type { KubernetesTargetConfig } from './kube-client.js';

export interface KubernetesTarget {
  readonly runtime: Runtime;
  readonly edge: Edge;
  close(): void;
}

/** Connects to the cluster (first list of pods and ReplicaSets) and returns runtime and edge. */
export async function startKubernetesTarget(
  config: KubernetesTargetConfig,
  log?: Logger,
  registry?: RegistryAccess,
): Promise<KubernetesTarget> {
  const kc = loadKubeConfig(config);
  const runtime = new KubernetesRuntime({ kc, namespace: config.namespace, log, registry });
  await runtime.connect();
  const edge = new KubernetesServiceEdge({
    kube: runtime.kube,
    pods: runtime.pods,
    services: runtime.services,
    drainMs: config.drainMs,
  });
  return { runtime, edge, close: () => runtime.close() };
}
