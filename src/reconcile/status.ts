/**
 * An environment's status, derived (never stored beside its inputs, then edited): sync says
 * whether what runs is what the record and the branch say, with why not; health summarizes the
 * instances in Argo CD's words. Pure: the reconciler gathers the facts and writes the result.
 */
import type { EnvHealth, EnvStatus, InstanceStatus, OutOfSyncReason } from '../store/records.js';
import type { Judged } from './heal.js';
import type { ProcessCount } from './heal-processes.js';

export interface StatusFacts {
  readonly app: string;
  readonly env: string;
  readonly desired: EnvStatus['desired'];
  readonly judged: readonly Judged[];
  /** Per process type, desired and ready; empty when not judged (a rollout holds the environment). */
  readonly processes?: readonly ProcessCount[] | undefined;
  /** Starts asked for and not yet seen. */
  readonly pendingStarts: number;
  readonly drift: readonly string[];
  readonly route: EnvStatus['route'];
  readonly selfHeal: boolean;
  readonly orphaned: EnvStatus['orphaned'];
  /** A rollout of this environment is running or waiting to resume. */
  readonly rolloutInFlight: string | null;
  /** The newest commit of the environment's branch, when known. */
  readonly head: string | null;
  readonly pinned: { readonly sha: string; readonly reason: string } | null;
  readonly locked: { readonly reason: string } | null;
  /** The head's rollout failed here (it is not retried automatically). */
  readonly headFailed: boolean;
  /** Successors held back by the crash-loop back-off until then (ms). */
  readonly backoffUntil?: number | null | undefined;
  /** What could not be reached during the pass, if anything. */
  readonly unreachable: {
    /** The engine (every host), the edge, or some of the hosts (the others were healed). */
    readonly what: 'engine' | 'edge' | 'hosts';
    readonly detail: string;
  } | null;
  readonly now: number;
}

export function statusOf(f: StatusFacts): EnvStatus {
  return {
    app: f.app,
    env: f.env,
    sync: syncOf(f),
    health: healthOf(f),
    desired: f.desired,
    instances: f.judged.map(instanceStatus),
    ...(f.processes === undefined || f.processes.length === 0
      ? {}
      : { processes: f.processes.map((p) => ({ ...p })) }),
    route: f.route,
    selfHeal: f.selfHeal,
    orphaned: f.orphaned,
    observedAt: new Date(f.now).toISOString(),
  };
}

function syncOf(f: StatusFacts): EnvStatus['sync'] {
  const reasons: { reason: OutOfSyncReason; detail: string }[] = [];
  if (f.orphaned) reasons.push({ reason: 'orphaned', detail: f.orphaned.why });
  if (f.unreachable) {
    const reason = f.unreachable.what === 'edge' ? 'edge-unreachable' : 'engine-unreachable';
    reasons.push({ reason, detail: f.unreachable.detail });
  }
  const current = f.desired?.sha ?? null;
  if (f.head !== null && f.head !== current && f.rolloutInFlight === null) {
    const head = f.head.slice(0, 12);
    if (f.pinned) {
      reasons.push({
        reason: 'pinned',
        detail: `pinned to ${f.pinned.sha.slice(0, 12)} (${f.pinned.reason}); branch head ${head}`,
      });
    } else if (f.headFailed) {
      reasons.push({ reason: 'failed', detail: `branch head ${head} failed to roll out here` });
    } else if (f.locked) {
      reasons.push({
        reason: 'frozen',
        detail: `deploys frozen: ${f.locked.reason}; branch head ${head}`,
      });
    } else {
      reasons.push({ reason: 'newer-head', detail: `branch head ${head} is not deployed yet` });
    }
  }
  if (f.drift.length > 0 && f.rolloutInFlight === null)
    reasons.push({ reason: 'drift', detail: f.drift.join('; ') });
  return { status: reasons.length === 0 ? 'synced' : 'out-of-sync', reasons };
}

function healthOf(f: StatusFacts): { status: EnvHealth; detail: string } {
  if (f.rolloutInFlight !== null)
    return { status: 'progressing', detail: `rollout ${f.rolloutInFlight} in progress` };
  if (f.desired === null) return { status: 'missing', detail: 'nothing deployed yet' };
  if (f.unreachable?.what === 'engine')
    return { status: 'unknown', detail: `cannot see the instances: ${f.unreachable.detail}` };
  const { replicas } = f.desired;
  const ours = f.judged.filter(
    (j) => j.verdict === 'healthy' || j.verdict === 'starting' || j.verdict === 'unhealthy',
  );
  // Ready: healthy, and routed for the routed process (an unrouted one serves by running).
  const unrouted = new Set((f.processes ?? []).filter((p) => !p.routed).map((p) => p.name));
  const serving = f.judged.filter(
    (j) =>
      j.verdict === 'healthy' && (j.instance.routed || unrouted.has(j.instance.process ?? 'web')),
  ).length;
  const unhealthy = f.judged.filter((j) => j.verdict === 'unhealthy');
  const starting = f.judged.filter((j) => j.verdict === 'starting').length + f.pendingStarts;
  const count = `${serving}/${replicas} serving`;
  if (f.unreachable?.what === 'hosts')
    return { status: 'degraded', detail: `${count}; ${f.unreachable.detail}` };
  if (replicas > 0 && ours.length === 0 && f.pendingStarts === 0)
    return { status: 'missing', detail: `no instance of ${f.desired.sha.slice(0, 12)} runs` };
  if (f.backoffUntil !== null && f.backoffUntil !== undefined && f.selfHeal) {
    const inS = Math.max(1, Math.ceil((f.backoffUntil - f.now) / 1000));
    return {
      status: 'degraded',
      detail: `${count}; instances keep dying after they start: the next replacement waits ${inS} s`,
    };
  }
  if (unhealthy.length > 0) {
    const why = unhealthy.map((j) => `${j.instance.slot} ${j.detail ?? 'unhealthy'}`).join('; ');
    return { status: 'degraded', detail: `${count}; ${why}` };
  }
  if (serving < replicas) {
    if (starting > 0 && f.selfHeal)
      return { status: 'progressing', detail: `${count}; ${starting} starting` };
    return { status: 'degraded', detail: count };
  }
  if (f.unreachable?.what === 'edge')
    return { status: 'degraded', detail: `${count}; ${f.unreachable.detail}` };
  return { status: 'healthy', detail: count };
}

function instanceStatus(j: Judged): InstanceStatus {
  const i = j.instance;
  return {
    slot: i.slot,
    id: i.id,
    host: i.host,
    revision: i.revision,
    state: i.state,
    verdict: j.verdict,
    routed: i.routed,
    process: i.process ?? 'web',
    ...(j.detail ? { detail: j.detail } : {}),
  };
}
