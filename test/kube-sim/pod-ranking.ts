/**
 * Which pods a ReplicaSet deletes first when it scales down: Kubernetes' ActivePodsWithRanks order
 * (controller_utils.go), without the co-location rank (one node here).
 */
import { isPodReady } from './pod-status.js';
import type { Pod } from './types.js';

/** The annotation that orders scale-down victims (lower cost goes first). */
export const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function cost(p: Pod): number {
  const raw = p.metadata.annotations?.[DELETION_COST];
  const n = raw === undefined ? 0 : Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n : 0;
}

function readySince(p: Pod): number {
  const c = p.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  return c ? Date.parse(c.lastTransitionTime) : 0;
}

function restarts(p: Pod): number {
  return (p.status?.containerStatuses ?? []).reduce((m, s) => Math.max(m, s.restartCount), 0);
}

/**
 * Negative when `a` should be deleted before `b`: unscheduled before scheduled, Pending before
 * Running, not ready before ready, lower deletion cost first, ready for less time first, more
 * restarts first, newer first.
 */
export function compareForDeletion(a: Pod, b: Pod): number {
  const sa = a.spec.nodeName ? 1 : 0;
  const sb = b.spec.nodeName ? 1 : 0;
  if (sa !== sb) return sa - sb;
  const pa = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a.status) ? 1 : 0;
  const rb = isPodReady(b.status) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  if (cost(a) !== cost(b)) return cost(a) - cost(b);
  if (ra === 1 && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const ca = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const cb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  return cb - ca;
}

/** The `n` pods to delete first. */
export function scaleDownVictims(pods: readonly Pod[], n: number): Pod[] {
  return [...pods].sort(compareForDeletion).slice(0, Math.max(0, n));
}
