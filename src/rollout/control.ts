/**
 * Pause, resume, abort and supersede: a person's (or the queue's) say over a running rollout.
 * Intents are collected between decisions and applied once, at the start of the next one.
 */
import { assertNever } from './assert-never.js';
import type { RolloutEvent } from './events.js';
import type { Intent } from './intent.js';
import { phaseOf } from './phase.js';
import type { RolloutPlan } from './plan.js';
import type { RolloutState } from './state.js';
import { only, type Stepped } from './step.js';

/** Applies the intents collected since the last decision: abort wins; of pause and resume, the last one counts. */
export function applyIntents(
  state: RolloutState,
  intents: readonly Intent[],
  now: number,
): Stepped {
  if (intents.length === 0) return only(state);
  // Abort wins; otherwise the last of pause and resume says what the person wants now.
  const at = intents.findIndex((i) => i.kind === 'abort');
  const index = at >= 0 ? at : intents.length - 1;
  const chosen = intents[index];
  if (chosen === undefined) return only(state);
  const passedOver: RolloutEvent[] = intents
    .filter((_, n) => n !== index)
    .map((intent) => ({
      kind: 'intent-ignored',
      at: now,
      intent,
      why: 'overridden by another intent',
    }));
  const result = applyOne(state, chosen, now);
  if (typeof result === 'string')
    return {
      state,
      events: [...passedOver, { kind: 'intent-ignored', at: now, intent: chosen, why: result }],
      actions: [],
    };
  return {
    state: result,
    events: [...passedOver, { kind: 'intent-applied', at: now, intent: chosen }],
    actions: [],
  };
}

/** The new state, or why the intent does not apply. */
function applyOne(state: RolloutState, intent: Intent, now: number): RolloutState | string {
  // A rollback restores service; pausing or re-aborting it would leave the environment half-way
  // on a revision already known to be bad.
  if (state.revert !== null)
    return `already ${state.revert.cause === 'abort' ? 'aborting' : 'rolling back'}`;
  switch (intent.kind) {
    case 'abort':
      return {
        ...state,
        revert: { cause: 'abort', since: now },
        pausedAt: null,
        bakeStartedAt: null,
        lastProgressAt: now,
      };
    case 'pause':
      return state.pausedAt !== null ? 'already paused' : { ...state, pausedAt: now };
    case 'resume': {
      if (state.pausedAt === null) return 'not paused';
      // The progress deadline and the bake clock stand still while paused: shift them by the pause.
      const paused = now - state.pausedAt;
      return {
        ...state,
        pausedAt: null,
        lastProgressAt: state.lastProgressAt === null ? now : state.lastProgressAt + paused,
        bakeStartedAt: state.bakeStartedAt === null ? null : state.bakeStartedAt + paused,
      };
    }
    default:
      return assertNever(intent);
  }
}

/**
 * The rollout's clocks (progress deadline, bake) stand still for `ms`: the executor could not
 * reach the runtime, so nothing could progress and no verdict was due. Applied by the executor
 * once the runtime answers again, like a pause it did not ask for.
 */
export function standStill(state: RolloutState, ms: number): RolloutState {
  if (ms <= 0 || state.finished !== null) return state;
  return {
    ...state,
    lastProgressAt: state.lastProgressAt === null ? null : state.lastProgressAt + ms,
    bakeStartedAt: state.bakeStartedAt === null ? null : state.bakeStartedAt + ms,
  };
}

/**
 * Marks a rollout superseded by a newer one (decided by the queue). Nothing is stopped: the next
 * rollout finds these instances in the runtime and adopts or retires them.
 */
export function supersede(plan: RolloutPlan, state: RolloutState, now: number): Stepped {
  if (state.finished !== null) return only(state);
  const next: RolloutState = {
    ...state,
    pausedAt: null,
    finished: { outcome: 'superseded', at: now, restored: false, rollbackStall: null },
  };
  return {
    state: next,
    events: [
      {
        kind: 'phase-changed',
        at: now,
        phase: phaseOf(plan, next),
        previous: phaseOf(plan, state),
      },
      { kind: 'finished', at: now, outcome: 'superseded', restored: false },
    ],
    actions: [{ kind: 'finish', outcome: 'superseded', restored: false, failure: state.failure }],
  };
}
