/**
 * Folds what the runtime reports into the tracked instances. The runtime is the truth about what
 * exists: instances it reports that the state does not know are adopted (a crash between acting
 * and persisting, or another process), instances the state knows that vanished are dropped, and
 * start requests not yet honoured stay pending so the start is asked for again (idempotently).
 */
import type { RolloutEvent } from './events.js';
import { freshTally, tallyHealth } from './health.js';
import type { Observed, ObservedInstance } from './observed.js';
import { WEB, processName } from '../config/processes.js';
import { processPlan, runsRevision, slotNumber, type RolloutPlan } from './plan.js';
import {
  MAX_EVIDENCE,
  boundedPush,
  directionOf,
  type Evidence,
  type Role,
  type RolloutState,
  type TrackedInstance,
} from './state.js';
import type { Stepped } from './step.js';

/** Matches observed instances to tracked ones, adopts and drops, and updates every health tally. */
export function reconcile(
  plan: RolloutPlan,
  state: RolloutState,
  observed: Observed,
  now: number,
): Stepped {
  const target = directionOf(plan, state).target;
  const away = new Set((observed.unreachable ?? []).map((u) => u.host));
  const claimed = new Set<ObservedInstance>();
  const index = indexObserved(observed.instances, claimed);
  const events: RolloutEvent[] = [];
  const evidence: Evidence[] = [];
  const instances: TrackedInstance[] = [];
  const lostRoutes: string[] = [];
  let progressed = false;

  for (const tracked of state.instances) {
    const seen = index.match(tracked);
    if (seen === undefined) {
      // On a host that does not answer: unknown, not gone.
      if (away.has(tracked.host)) {
        instances.push(tracked);
        continue;
      }
      if (tracked.id === null) {
        // Asked for but never seen: keep asking, unless it is no longer wanted.
        if (tracked.retire === null) instances.push(tracked);
        continue;
      }
      const removed = tracked.retire !== null;
      progressed ||= removed;
      events.push({
        kind: removed ? 'instance-removed' : 'instance-lost',
        at: now,
        slot: tracked.slot,
        instanceId: tracked.id,
      });
      // A route to something gone is dead weight in the edge; asking to drop it is harmless.
      if (tracked.routed) lostRoutes.push(tracked.id);
      continue;
    }
    claimed.add(seen);
    const next = observe(plan, tracked, seen, now);
    if (next.health.status !== tracked.health.status) {
      const e = evidenceOf(next, now);
      evidence.push(e);
      // A retiring instance that exits (143 after SIGTERM) does what its stop asked: no line
      // saying "unhealthy" in the rollout's events.
      if (tracked.retire === null || next.health.status !== 'unhealthy') {
        events.push({ kind: 'instance-health', at: now, evidence: e });
      }
      progressed ||= next.role === target && next.health.status === 'healthy';
    }
    instances.push(next);
  }

  let nextSlot = state.nextSlot;
  for (const o of observed.instances) {
    if (claimed.has(o)) continue;
    const n = slotNumber(plan, o.slot);
    if (n !== null) nextSlot = Math.max(nextSlot, n + 1);
    const adopted = adopt(plan, o, n !== null, now);
    instances.push(adopted);
    events.push({
      kind: 'instance-adopted',
      at: now,
      slot: o.slot,
      instanceId: o.id,
      role: adopted.role,
    });
  }

  return {
    state: {
      ...state,
      instances,
      nextSlot,
      evidence: boundedPush(state.evidence, evidence, MAX_EVIDENCE),
      lastProgressAt: progressed ? now : state.lastProgressAt,
    },
    events,
    actions: lostRoutes.length > 0 ? [{ kind: 'unroute', instanceIds: lostRoutes }] : [],
  };
}

/**
 * The observed instance a tracked one is: by id once known, by slot before; the first unclaimed
 * one in the runtime's order, as a linear search would find it. Indexed, because a search per
 * tracked instance is quadratic and one decision must stay n·log n however many replicas run.
 */
function indexObserved(
  observed: readonly ObservedInstance[],
  claimed: ReadonlySet<ObservedInstance>,
): { match(tracked: TrackedInstance): ObservedInstance | undefined } {
  const byId = queues(observed, (o) => o.id);
  const bySlot = queues(observed, (o) => o.slot);
  // Claims are never undone, so each queue's head only moves forward: O(n) over all matches.
  const first = (q: Queue | undefined): ObservedInstance | undefined => {
    if (q === undefined) return undefined;
    for (;;) {
      const o = q.items[q.head];
      if (o === undefined || !claimed.has(o)) return o;
      q.head += 1;
    }
  };
  return {
    match: (t) => (t.id !== null ? first(byId.get(t.id)) : first(bySlot.get(t.slot))),
  };
}

interface Queue {
  readonly items: ObservedInstance[];
  head: number;
}

function queues(
  observed: readonly ObservedInstance[],
  key: (o: ObservedInstance) => string,
): Map<string, Queue> {
  const out = new Map<string, Queue>();
  for (const o of observed) {
    const q = out.get(key(o));
    if (q === undefined) out.set(key(o), { items: [o], head: 0 });
    else q.items.push(o);
  }
  return out;
}

function observe(
  plan: RolloutPlan,
  t: TrackedInstance,
  o: ObservedInstance,
  now: number,
): TrackedInstance {
  const seenAt = t.seenAt ?? now;
  const health = tallyHealth(
    t.health,
    {
      state: o.state,
      restartCount: o.restartCount,
      exitCode: o.exitCode,
      startedAt: o.startedAt ?? seenAt,
      probes: o.probes,
      now,
    },
    processPlan(plan, t.process).health,
  );
  return {
    ...t,
    id: o.id,
    seenAt,
    host: o.host,
    runtime: o.state,
    exitCode: o.exitCode,
    routed: o.routed,
    everRouted: t.everRouted || o.routed,
    health,
  };
}

/**
 * An instance found running that the state does not know. One that serves traffic is taken as
 * healthy (only healthy instances are ever routed); restarts from before are not held against it,
 * unless its slot is this rollout's own, in which case it was started for this rollout.
 */
function adopt(
  plan: RolloutPlan,
  o: ObservedInstance,
  ours: boolean,
  now: number,
): TrackedInstance {
  const serving = o.routed && o.state === 'running';
  const baseline = ours ? 0 : o.restartCount;
  const fresh = freshTally(baseline, serving ? 'healthy' : 'starting');
  const process = processName(o.process);
  const seed: TrackedInstance = {
    slot: o.slot,
    role: roleOf(plan, o, ours),
    revision: o.revision,
    release: o.release ?? null,
    ...(process === WEB ? {} : { process }),
    host: o.host,
    request: null,
    id: o.id,
    seenAt: now,
    runtime: o.state,
    exitCode: o.exitCode,
    routed: o.routed,
    // Its past is unknown: it may have been unrouted a moment ago by a decision whose state was
    // lost, so it gets a full drain before any stop (an unrouted process never had traffic).
    everRouted: o.routed || processPlan(plan, process).routed,
    health: fresh,
    retire: null,
  };
  // Count what the prober already has, so an adopted instance's verdict is not delayed.
  return observe(plan, seed, o, now);
}

/**
 * Which side an instance found running is on. In a rolling restart, the instances of a restarted
 * process that this rollout did not start are the old side, though they run the same release.
 */
function roleOf(plan: RolloutPlan, o: ObservedInstance, ours: boolean): Role {
  if (runsRevision(plan.to, o.revision, o.release, false)) {
    const restarted = plan.restart?.includes(processName(o.process)) ?? false;
    return restarted && !ours ? 'from' : 'to';
  }
  if (runsRevision(plan.from, o.revision, o.release, true)) return 'from';
  return 'other';
}

function evidenceOf(i: TrackedInstance, now: number): Evidence {
  return {
    at: now,
    slot: i.slot,
    instanceId: i.id,
    role: i.role,
    status: i.health.status,
    detail: i.health.detail,
    probes: i.health.recent,
  };
}
