/**
 * The persisted working state of a rollout: plain JSON (no undefined, no Dates, no Maps), written
 * by the executor after every decision and handed back on the next one, possibly to another
 * process. It holds only what the world cannot tell us again: health tallies, when draining began,
 * the slot counter, the failure and its evidence. What the phase is, is derived (see phase.ts).
 */
import type { HealthStatus, HealthTally } from './health.js';
import type { Probe, RuntimeState } from './observed.js';
import { processPlans, type ProcessPlan, type Revision, type RolloutPlan } from './plan.js';

/** Which revision an instance runs, relative to the rollout: new, old, or some third one. */
export type Role = 'to' | 'from' | 'other';

export type Outcome = 'succeeded' | 'failed' | 'aborted' | 'superseded';

export type StopReason = 'replaced' | 'rolled-back' | 'aborted' | 'unhealthy' | 'surplus';

/** An instance on its way out: unrouted, then drained, then stopped. */
export interface Retirement {
  readonly reason: StopReason;
  readonly since: number;
  /** When it was first seen unrouted; the drain period counts from here, not from the decision. */
  readonly drainFrom: number | null;
  readonly stopAt: number | null;
}

export interface TrackedInstance {
  readonly slot: string;
  readonly role: Role;
  readonly revision: string;
  /** The release it runs (see Revision.release); null or absent before releases. */
  readonly release?: number | null | undefined;
  /** Its process type; absent: `web` (instances tracked before process types). */
  readonly process?: string | undefined;
  readonly host: string;
  /** Set when this rollout asked for the instance; null when it was found running (adopted). */
  readonly request: { readonly image: string; readonly at: number } | null;
  /** The runtime's id; null until the runtime reports the slot. */
  readonly id: string | null;
  readonly seenAt: number | null;
  /** As last observed; 'absent' until first seen. */
  readonly runtime: RuntimeState | 'absent';
  readonly exitCode: number | null;
  readonly routed: boolean;
  /** Ever routed, so stopping it needs a drain first. */
  readonly everRouted: boolean;
  readonly health: HealthTally;
  readonly retire: Retirement | null;
}

interface FailureBase {
  readonly at: number;
  readonly during: 'rolling' | 'baking' | 'rolling-back';
  readonly detail: string;
}

/** Why a rollout failed, with the evidence that decided it. */
export type Failure =
  | (FailureBase & {
      readonly check: 'unhealthy';
      readonly slot: string;
      readonly instanceId: string | null;
      readonly cause: 'probes' | 'exited' | 'crash-loop';
      readonly exitCode: number | null;
      readonly probes: readonly Probe[];
    })
  | (FailureBase & {
      readonly check: 'progress-deadline';
      readonly lastProgressAt: number;
      readonly deadlineMs: number;
    })
  | (FailureBase & {
      readonly check: 'error-rate';
      readonly errorRate: number;
      readonly requests: number;
      readonly maxErrorRate: number;
    })
  | (FailureBase & {
      readonly check: 'host-unreachable';
      readonly hosts: readonly string[];
    });

/** A health transition worth keeping: what was seen, when, and the probes that showed it. */
export interface Evidence {
  readonly at: number;
  readonly slot: string;
  readonly instanceId: string | null;
  readonly role: Role;
  readonly status: HealthStatus;
  readonly detail: string | null;
  readonly probes: readonly Probe[];
}

export interface Finished {
  readonly outcome: Outcome;
  readonly at: number;
  /** Failed or aborted: whether the previous revision is back at full strength. */
  readonly restored: boolean;
  /** Set when the way back itself stalled past the progress deadline. */
  readonly rollbackStall: Failure | null;
}

export interface RolloutState {
  readonly version: 1;
  readonly rolloutId: string;
  /** The first decision's time; null while pending. */
  readonly startedAt: number | null;
  readonly lastProgressAt: number | null;
  readonly pausedAt: number | null;
  readonly bakeStartedAt: number | null;
  /** Going back to the old revision, because of a failure or an abort. */
  readonly revert: { readonly cause: 'failure' | 'abort'; readonly since: number } | null;
  readonly failure: Failure | null;
  readonly finished: Finished | null;
  /** The n of the next slot to name; never reused, so no two start requests share a slot. */
  readonly nextSlot: number;
  readonly instances: readonly TrackedInstance[];
  /** The most recent health transitions, bounded. */
  readonly evidence: readonly Evidence[];
}

export const MAX_EVIDENCE = 20;

/** The state of a rollout nothing has been decided for yet. */
export function initialState(plan: RolloutPlan): RolloutState {
  return {
    version: 1,
    rolloutId: plan.rolloutId,
    startedAt: null,
    lastProgressAt: null,
    pausedAt: null,
    bakeStartedAt: null,
    revert: null,
    failure: null,
    finished: null,
    nextSlot: 0,
    instances: [],
    evidence: [],
  };
}

/** Where the rollout is heading now: the revision to bring to full strength and its role. */
export interface Direction {
  readonly target: 'to' | 'from';
  /** Null when going back to nothing (a failed first deploy). */
  readonly revision: Revision | null;
  /** How many instances of the target should serve at the end, all process types together. */
  readonly desired: number;
  /** Why the instances leaving now leave. */
  readonly reason: StopReason;
}

/** Forward to the new revision, or back to the old one after a failure or an abort. */
export function directionOf(plan: RolloutPlan, state: RolloutState): Direction {
  const total = processPlans(plan).reduce((n, p) => n + p.replicas, 0);
  if (state.revert === null)
    return { target: 'to', revision: plan.to, desired: total, reason: 'replaced' };
  const reason = state.revert.cause === 'abort' ? 'aborted' : 'rolled-back';
  const desired = plan.from === null ? 0 : total;
  return { target: 'from', revision: plan.from, desired, reason };
}

/** How many instances of process `p` the direction's target should have: 0 going back to nothing. */
export function desiredOf(dir: Direction, p: ProcessPlan): number {
  return dir.revision === null ? 0 : p.replicas;
}

/** Keeps the newest entries of a bounded list. */
export function boundedPush<T>(list: readonly T[], items: readonly T[], max: number): T[] {
  return [...list, ...items].slice(-max);
}
