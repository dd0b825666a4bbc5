/**
 * Pure mapping from what the API server reports about a pod to the runtime's `Instance`, and the
 * evidence lines a failed rollout keeps (pod phase, container waiting reasons, probe failures,
 * events). Timestamps arrive as `Date` from list calls and as strings from watch events.
 */
import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { Instance, InstanceState } from '../runtime.js';
import { ANNOTATION, CONTAINER, LABEL, MANAGED_BY, PORT_NAME, releaseOf } from './names.js';

/**
 * Waiting reasons that no amount of waiting fixes: the image cannot be had or the pod cannot be
 * configured. They read as `dead` so the rollout fails at once instead of at its deadline.
 * `ErrImagePull` alone is not here: the kubelet retries it, and a registry blip recovers.
 */
export const FATAL_WAITING = new Set([
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

type Time = Date | string | undefined | null;

/** Epoch ms of an API timestamp, or undefined. */
export function timeOf(t: Time): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether Gantry's labels are on the pod (else it is never returned, so never touched). */
export function isManagedPod(pod: V1Pod): boolean {
  return pod.metadata?.labels?.[LABEL.managed] === MANAGED_BY;
}

export function containerStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === CONTAINER);
}

/** The container port of the pod (the named one), from its spec. */
export function podPort(pod: V1Pod): number | undefined {
  const c = pod.spec?.containers.find((x) => x.name === CONTAINER);
  return c?.ports?.find((p) => p.name === PORT_NAME)?.containerPort;
}

/** The runtime's word for a pod's state. */
export function podState(pod: V1Pod): InstanceState {
  if (pod.metadata?.deletionTimestamp) return 'removing';
  const cs = containerStatus(pod);
  const waiting = cs?.state?.waiting?.reason;
  if (waiting !== undefined && FATAL_WAITING.has(waiting)) return 'dead';
  switch (pod.status?.phase) {
    case 'Pending':
      return 'created';
    case 'Running':
      if (cs?.state?.running) return 'running';
      if (waiting === 'CrashLoopBackOff') return 'restarting';
      if (cs?.state?.terminated) return (cs.restartCount ?? 0) > 0 ? 'restarting' : 'exited';
      // Waiting for its first start, or between restarts for a reason not known to be fatal.
      return (cs?.restartCount ?? 0) > 0 ? 'restarting' : 'created';
    case 'Succeeded':
    case 'Failed':
      return 'exited';
    default:
      return 'dead';
  }
}

/**
 * The instance a pod is, or undefined when it is not Gantry's or holds no slot: neither claimed
 * (label) nor paired with one of its ReplicaSet's unclaimed slots (`unclaimedSlot`).
 */
export function podInstance(
  pod: V1Pod,
  host: string,
  unclaimedSlot?: string,
): Instance | undefined {
  if (!isManagedPod(pod)) return undefined;
  const labels = pod.metadata?.labels ?? {};
  const app = labels[LABEL.app];
  const env = labels[LABEL.env];
  const slot = labels[LABEL.slot] ?? unclaimedSlot;
  const name = pod.metadata?.name;
  if (app === undefined || env === undefined || slot === undefined || name === undefined) {
    return undefined;
  }
  const cs = containerStatus(pod);
  const state = podState(pod);
  const port = podPort(pod);
  const terminated = cs?.state?.terminated ?? cs?.lastState?.terminated;
  return {
    id: pod.metadata?.uid ?? name,
    name,
    host,
    app,
    env,
    revision: labels[LABEL.revision] ?? '',
    rolloutId: labels[LABEL.rollout] ?? '',
    slot,
    // Null on pods of ReplicaSets from before releases.
    release: releaseOf(labels[LABEL.release]),
    // Absent on `web` pods, as on pods from before process types.
    ...(labels[LABEL.process] === undefined ? {} : { process: labels[LABEL.process] }),
    image: pod.spec?.containers.find((c) => c.name === CONTAINER)?.image ?? '',
    state,
    exitCode:
      state === 'exited' || state === 'dead' || state === 'restarting'
        ? terminated?.exitCode
        : undefined,
    restartCount: cs?.restartCount ?? 0,
    startedAt: timeOf(cs?.state?.running?.startedAt),
    hostPort: undefined,
    upstream: state === 'running' && port !== undefined ? `${name}:${port}` : undefined,
  };
}

/** The pod's Ready condition as the readiness probe last set it, with its evidence. */
export function podReadiness(pod: V1Pod): { ready: boolean; detail: string } | undefined {
  const cond = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (cond === undefined) return undefined;
  if (cond.status === 'True') return { ready: true, detail: 'pod Ready (readiness probe passes)' };
  const why = [cond.reason, cond.message].filter(Boolean).join(': ');
  return { ready: false, detail: `pod not Ready${why ? ` (${why})` : ''}` };
}

/**
 * One line per fact a person needs to see why a pod failed: phase, the container's waiting or
 * terminated reason with its message, restarts, and the pod's recent Warning events (probe
 * failures, pull errors, back-offs). Pure; the events are given.
 */
export function podEvidence(pod: V1Pod, events: readonly CoreV1Event[] = []): string[] {
  const name = pod.metadata?.name ?? '?';
  const lines = [`[kubernetes] pod ${name}: phase ${pod.status?.phase ?? 'Unknown'}`];
  const cs = containerStatus(pod);
  const waiting = cs?.state?.waiting;
  if (waiting?.reason) {
    lines.push(
      `[kubernetes] container ${CONTAINER} waiting: ${waiting.reason}${waiting.message ? ` (${oneLine(waiting.message)})` : ''}`,
    );
  }
  const term = cs?.state?.terminated ?? cs?.lastState?.terminated;
  if (term) {
    lines.push(
      `[kubernetes] container ${CONTAINER} last terminated: exit ${term.exitCode}${term.reason ? ` (${term.reason})` : ''}`,
    );
  }
  if (cs && cs.restartCount > 0) lines.push(`[kubernetes] restarts: ${cs.restartCount}`);
  const ready = podReadiness(pod);
  if (ready && !ready.ready) lines.push(`[kubernetes] ${ready.detail}`);
  const sorted = [...events]
    .filter((e) => e.type === 'Warning')
    .sort((a, b) => (eventTime(a) ?? 0) - (eventTime(b) ?? 0))
    .slice(-5);
  for (const e of sorted) {
    const count = (e.count ?? 1) > 1 ? ` (×${e.count})` : '';
    lines.push(`[kubernetes] event ${e.reason ?? '?'}${count}: ${oneLine(e.message ?? '')}`);
  }
  return lines;
}

function eventTime(e: CoreV1Event): number | undefined {
  return timeOf(
    e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp,
  );
}

function oneLine(s: string, max = 300): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The deletion-cost annotation value that makes the ReplicaSet controller pick a pod first. */
export const LOWEST_DELETION_COST = String(-2147483648);

/** Whether the pod was marked for scale-down by `stop`. */
export function isMarkedForDeletion(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[ANNOTATION.deletionCost] === LOWEST_DELETION_COST;
}

/**
 * Pairs a ReplicaSet's slots that no pod holds yet with its pods that hold none, both in a fixed
 * order (slots sorted; pods oldest first, then by name). A controller that died between scaling a
 * ReplicaSet up and claiming the pod leaves such a pair: listing it keeps the pod visible (so it
 * can be adopted or stopped), and `start` claims the pod this pairing names. Pure.
 */
export function pairUnclaimed(
  slots: readonly string[],
  pods: readonly V1Pod[],
): Map<string, string> {
  const held = new Set(pods.map((p) => p.metadata?.labels?.[LABEL.slot]).filter(Boolean));
  const free = [...new Set(slots)].filter((s) => !held.has(s)).sort();
  const loose = pods
    .filter(
      (p) =>
        p.metadata?.labels?.[LABEL.slot] === undefined &&
        !p.metadata?.deletionTimestamp &&
        !isMarkedForDeletion(p),
    )
    .sort(
      (a, b) =>
        (timeOf(a.metadata?.creationTimestamp) ?? 0) -
          (timeOf(b.metadata?.creationTimestamp) ?? 0) ||
        (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
    );
  const out = new Map<string, string>();
  loose.forEach((p, i) => {
    const slot = free[i];
    if (slot !== undefined && p.metadata?.name) out.set(p.metadata.name, slot);
  });
  return out;
}
