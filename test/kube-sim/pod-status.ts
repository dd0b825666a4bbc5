/** Pod status as the kubelet reports it, derived from what the pod worker knows. */
import type { ContainerStatus, PodCondition, PodStatus } from './types.js';

export interface PodView {
  phase: PodStatus['phase'];
  startTime: string;
  container: ContainerStatus;
}

/** Conditions in the API server's order; each keeps its transition time while its status holds. */
export function podConditions(
  view: PodView,
  previous: readonly PodCondition[] | undefined,
  now: string,
): PodCondition[] {
  const ready = view.container.ready && view.phase === 'Running';
  const wanted: [string, boolean, string | undefined][] = [
    [
      'PodReadyToStartContainers',
      view.container.state.running !== undefined || view.container.restartCount > 0,
      undefined,
    ],
    ['Initialized', true, undefined],
    ['Ready', ready, ready ? undefined : 'ContainersNotReady'],
    ['ContainersReady', ready, ready ? undefined : 'ContainersNotReady'],
    ['PodScheduled', true, undefined],
  ];
  return wanted.map(([type, ok, reason]) => {
    const status = ok ? 'True' : 'False';
    const old = previous?.find((c) => c.type === type);
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
      ...(reason
        ? { reason, message: `containers with unready status: [${view.container.name}]` }
        : {}),
    };
  });
}

/** The whole status object of a pod. */
export function podStatus(view: PodView, previous: PodStatus | undefined, now: string): PodStatus {
  return {
    phase: view.phase,
    conditions: podConditions(view, previous?.conditions, now),
    hostIP: '127.0.0.1',
    podIP: '127.0.0.1',
    podIPs: [{ ip: '127.0.0.1' }],
    startTime: view.startTime,
    containerStatuses: [view.container],
  };
}

/** Whether a pod reports condition Ready=True. */
export function isPodReady(status: PodStatus | undefined): boolean {
  return status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
