/**
 * The Docker containers of one pod on the node agent (builders: data only). As a kubelet does
 * with its pause container, each pod gets a sandbox container that holds the pod's network
 * namespace and IP on the test run's pod network; the app container joins that namespace, so the
 * pod keeps its IP across container restarts.
 */
import type Docker from 'dockerode';
import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** Every container of one node agent carries this label with the agent's id: cleanup is by it. */
export const NODE_LABEL = 'gantry-kube-node';

function labels(agentId: string, pod: V1Pod, container: string): Record<string, string> {
  return {
    [NODE_LABEL]: agentId,
    'io.kubernetes.pod.name': pod.metadata?.name ?? '',
    'io.kubernetes.pod.namespace': pod.metadata?.namespace ?? '',
    'io.kubernetes.pod.uid': pod.metadata?.uid ?? '',
    'io.kubernetes.container.name': container,
  };
}

function stem(agentId: string, pod: V1Pod): string {
  return `gk-${agentId}-${pod.metadata?.namespace}-${pod.metadata?.name}-${(pod.metadata?.uid ?? '').slice(0, 8)}`;
}

/** The sandbox: sleeps forever in the pod's network namespace (the base image is busybox). */
export function sandboxOptions(input: {
  agentId: string;
  pod: V1Pod;
  network: string;
  image: string;
}): Docker.ContainerCreateOptions {
  const { pod } = input;
  return {
    name: `${stem(input.agentId, pod)}-sandbox`,
    Image: input.image,
    Hostname: (pod.metadata?.name ?? 'pod').slice(0, 63),
    Entrypoint: ['sleep'],
    Cmd: ['2147483647'],
    Labels: labels(input.agentId, pod, 'POD'),
    HostConfig: { NetworkMode: input.network, Init: true },
    NetworkingConfig: { EndpointsConfig: { [input.network]: {} } },
  };
}

/** Attempt `attempt` of an app container, in the sandbox's network namespace. */
export function appContainerOptions(input: {
  agentId: string;
  pod: V1Pod;
  container: V1Container;
  env: readonly string[];
  attempt: number;
  sandboxId: string;
}): Docker.ContainerCreateOptions {
  const { pod, container: c } = input;
  return {
    name: `${stem(input.agentId, pod)}-${c.name}-${input.attempt}`,
    Image: c.image,
    ...(c.command ? { Entrypoint: c.command } : {}),
    ...(c.args ? { Cmd: c.args } : {}),
    ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
    Env: [`HOSTNAME=${pod.metadata?.name}`, ...input.env],
    Labels: labels(input.agentId, pod, c.name),
    HostConfig: {
      NetworkMode: `container:${input.sandboxId}`,
      // With a shared process namespace the pause container is PID 1 and reaps, and the app is
      // not PID 1, so SIGTERM's default action applies. Docker's init gives the same.
      ...(pod.spec?.shareProcessNamespace ? { Init: true } : {}),
    },
  };
}
