/**
 * The phase a person sees, derived from the plan and the state and never stored beside them
 * (Argo's CalculateRolloutPhase): a stored phase can disagree with the state, a derived one cannot.
 */
import { assertNever } from './assert-never.js';
import { stepOf } from './fleet.js';
import type { RolloutPlan } from './plan.js';
import { directionOf, type Failure, type RolloutState } from './state.js';

export type Phase =
  | { readonly kind: 'pending' }
  | { readonly kind: 'progressing'; readonly step: number; readonly of: number }
  | { readonly kind: 'paused'; readonly step: number; readonly of: number }
  | { readonly kind: 'baking'; readonly until: number }
  | {
      readonly kind: 'rolling-back';
      readonly cause: 'failure' | 'abort';
      readonly step: number;
      readonly of: number;
    }
  | { readonly kind: 'succeeded' }
  /** Failed and not restored: autoRollback was off, or the way back stalled. */
  | { readonly kind: 'failed'; readonly check: Failure['check'] | null }
  | { readonly kind: 'rolled-back' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'superseded' };

/** The phase of a rollout, from its plan and state alone. */
export function phaseOf(plan: RolloutPlan, state: RolloutState): Phase {
  const done = state.finished;
  if (done !== null) {
    switch (done.outcome) {
      case 'succeeded':
        return { kind: 'succeeded' };
      case 'failed':
        return done.restored
          ? { kind: 'rolled-back' }
          : { kind: 'failed', check: state.failure?.check ?? null };
      case 'aborted':
        return { kind: 'aborted' };
      case 'superseded':
        return { kind: 'superseded' };
      default:
        return assertNever(done.outcome);
    }
  }
  if (state.startedAt === null) return { kind: 'pending' };
  const dir = directionOf(plan, state);
  const step = stepOf(plan, state.instances, dir);
  if (state.revert !== null)
    return { kind: 'rolling-back', cause: state.revert.cause, step, of: dir.desired };
  if (state.pausedAt !== null) return { kind: 'paused', step, of: dir.desired };
  if (state.bakeStartedAt !== null)
    return { kind: 'baking', until: state.bakeStartedAt + plan.bakeMs };
  return { kind: 'progressing', step, of: dir.desired };
}

/** Whether two phases read the same to a person (events fire only on a change). */
export function samePhase(a: Phase, b: Phase): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The phase in words, for the CLI and the UI. */
export function describePhase(p: Phase): string {
  switch (p.kind) {
    case 'pending':
      return 'pending';
    case 'progressing':
      return `progressing (step ${p.step} of ${p.of})`;
    case 'paused':
      return `paused (step ${p.step} of ${p.of})`;
    case 'baking':
      return 'baking';
    case 'rolling-back':
      return `${p.cause === 'abort' ? 'aborting' : 'rolling back'} (${p.step} of ${p.of} restored)`;
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return p.check === null ? 'failed' : `failed (${p.check})`;
    case 'rolled-back':
      return 'failed, rolled back';
    case 'aborted':
      return 'aborted';
    case 'superseded':
      return 'superseded';
    default:
      return assertNever(p);
  }
}
