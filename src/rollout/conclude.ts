/**
 * When a rollout is done: going forward, once the new revision carries all traffic it bakes for
 * bakeMs, and succeeds when the bake is over and nothing else is left running; going back, it
 * ends when the old revision is back at full strength and nothing of the new one is left.
 */
import type { Action } from './actions.js';
import type { RolloutEvent } from './events.js';
import { carriesAllTraffic, isConverged } from './fleet.js';
import type { RolloutPlan } from './plan.js';
import { directionOf, type Outcome, type RolloutState } from './state.js';
import { only, type Stepped } from './step.js';

/** Starts the bake, or finishes the rollout, when the state says it is time. */
export function conclude(plan: RolloutPlan, state: RolloutState, now: number): Stepped {
  if (state.finished !== null || state.pausedAt !== null) return only(state);
  const dir = directionOf(plan, state);
  if (state.revert !== null) {
    if (!isConverged(plan, state.instances, dir)) return only(state);
    return finish(state, state.revert.cause === 'abort' ? 'aborted' : 'failed', now);
  }
  // No bake asked for: no bake phase, and no error-rate watch either.
  const bakes = plan.bakeMs > 0 && carriesAllTraffic(plan, state.instances, dir);
  const bakeStartedAt = state.bakeStartedAt ?? (bakes ? now : null);
  const baked = plan.bakeMs === 0 || (bakeStartedAt !== null && now - bakeStartedAt >= plan.bakeMs);
  if (baked && isConverged(plan, state.instances, dir))
    return finish({ ...state, bakeStartedAt }, 'succeeded', now);
  return only({ ...state, bakeStartedAt });
}

function finish(state: RolloutState, outcome: Outcome, now: number): Stepped {
  const restored = outcome !== 'succeeded';
  const next: RolloutState = {
    ...state,
    finished: { outcome, at: now, restored, rollbackStall: null },
  };
  const events: RolloutEvent[] = [{ kind: 'finished', at: now, outcome, restored }];
  const actions: Action[] = [finishAction(next)];
  return { state: next, events, actions };
}

/** The finish action of a finished rollout; repeated on every later decision until it is applied. */
export function finishAction(state: RolloutState): Action {
  const done = state.finished;
  return {
    kind: 'finish',
    outcome: done?.outcome ?? 'failed',
    restored: done?.restored ?? false,
    failure: state.failure ?? done?.rollbackStall ?? null,
  };
}
