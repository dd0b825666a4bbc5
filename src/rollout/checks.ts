/**
 * The checks that fail a rollout, in the order they are asked: a host out of reach, a new instance
 * unhealthy, the edge's error rate during bake, no progress before the deadline. A failure either turns the
 * rollout around (autoRollback) or ends it where it stands, keeping what serves.
 */
import type { UnreachableHost } from '../runtime/runtime.js';
import type { EdgeStats } from './observed.js';
import { describeUnreachable } from '../runtime/survey.js';
import { slotNumber, type RolloutPlan } from './plan.js';
import type { Failure, RolloutState } from './state.js';
import { only, type Stepped } from './step.js';

/** Runs the failure checks and applies the first that trips. */
export function judge(
  plan: RolloutPlan,
  state: RolloutState,
  edge: EdgeStats | null,
  now: number,
  unreachable: readonly UnreachableHost[] = [],
): Stepped {
  if (state.finished !== null) return only(state);
  if (state.revert !== null) return judgeWayBack(plan, state, now);
  const failure = hostFailure(state, unreachable, now) ?? firstFailure(plan, state, edge, now);
  if (failure === null) return only(state);
  if (plan.autoRollback) {
    const next: RolloutState = {
      ...state,
      failure,
      revert: { cause: 'failure', since: now },
      pausedAt: null,
      bakeStartedAt: null,
      // The way back gets a deadline of its own.
      lastProgressAt: now,
    };
    return {
      state: next,
      events: [{ kind: 'failed', at: now, failure, rollingBack: true }],
      actions: [],
    };
  }
  // No rollback: a person must act. Nothing is stopped, so what serves keeps serving and the
  // failed instance stays for its logs.
  const next: RolloutState = {
    ...state,
    failure,
    pausedAt: null,
    finished: { outcome: 'failed', at: now, restored: false, rollbackStall: null },
  };
  return {
    state: next,
    events: [
      { kind: 'failed', at: now, failure, rollingBack: false },
      { kind: 'finished', at: now, outcome: 'failed', restored: false },
    ],
    actions: [{ kind: 'finish', outcome: 'failed', restored: false, failure }],
  };
}

/**
 * A host that stopped answering fails the rollout going forward: what runs there is unknown, so
 * the new revision cannot be shown to serve everywhere. The way back acts on the hosts that answer
 * (decide.ts); what is left on the lost one is the reconciler's once it returns.
 */
function hostFailure(
  state: RolloutState,
  unreachable: readonly UnreachableHost[],
  now: number,
): Failure | null {
  if (unreachable.length === 0) return null;
  return {
    check: 'host-unreachable',
    at: now,
    during: state.bakeStartedAt === null ? 'rolling' : 'baking',
    hosts: unreachable.map((h) => h.host),
    detail: describeUnreachable(unreachable),
  };
}

function firstFailure(
  plan: RolloutPlan,
  state: RolloutState,
  edge: EdgeStats | null,
  now: number,
): Failure | null {
  const during = state.bakeStartedAt === null ? 'rolling' : 'baking';
  // Only instances this rollout started can fail it: a leftover from an earlier attempt is
  // retired instead (see rolling.ts).
  const sick = state.instances.find(
    (i) => i.role === 'to' && i.health.status === 'unhealthy' && slotNumber(plan, i.slot) !== null,
  );
  if (sick !== undefined) {
    return {
      check: 'unhealthy',
      at: now,
      during,
      slot: sick.slot,
      instanceId: sick.id,
      cause: sick.health.cause ?? 'probes',
      // The process type names which part of the release failed it (absent: web).
      detail: `${sick.slot}${sick.process === undefined ? '' : ` (${sick.process})`}: ${sick.health.detail ?? 'unhealthy'}`,
      exitCode: sick.exitCode,
      probes: sick.health.recent,
    };
  }
  const budget = plan.errorBudget;
  if (
    during === 'baking' &&
    edge !== null &&
    edge.requests >= budget.minRequests &&
    edge.errorRate > budget.maxErrorRate
  ) {
    return {
      check: 'error-rate',
      at: now,
      during,
      errorRate: edge.errorRate,
      requests: edge.requests,
      maxErrorRate: budget.maxErrorRate,
      detail: `error rate ${pct(edge.errorRate)} over ${edge.requests} requests exceeds ${pct(budget.maxErrorRate)}`,
    };
  }
  // Bake has an end of its own; a pause stops the clock.
  if (during === 'baking' || state.pausedAt !== null) return null;
  return deadlinePassed(plan, state, now, 'rolling');
}

/** The way back has the same deadline; if it stalls, the rollout ends unrestored and a person must act. */
function judgeWayBack(plan: RolloutPlan, state: RolloutState, now: number): Stepped {
  const stall = deadlinePassed(plan, state, now, 'rolling-back');
  if (stall === null || state.revert === null) return only(state);
  const outcome = state.revert.cause === 'abort' ? 'aborted' : 'failed';
  const next: RolloutState = {
    ...state,
    finished: { outcome, at: now, restored: false, rollbackStall: stall },
  };
  return {
    state: next,
    events: [
      { kind: 'failed', at: now, failure: stall, rollingBack: false },
      { kind: 'finished', at: now, outcome, restored: false },
    ],
    actions: [{ kind: 'finish', outcome, restored: false, failure: state.failure ?? stall }],
  };
}

function deadlinePassed(
  plan: RolloutPlan,
  state: RolloutState,
  now: number,
  during: 'rolling' | 'rolling-back',
): Failure | null {
  const since = state.lastProgressAt ?? now;
  if (now - since <= plan.progressDeadlineMs) return null;
  return {
    check: 'progress-deadline',
    at: now,
    during,
    lastProgressAt: since,
    deadlineMs: plan.progressDeadlineMs,
    detail: `no progress for ${Math.round((now - since) / 1000)}s (deadline ${Math.round(plan.progressDeadlineMs / 1000)}s)`,
  };
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}
