import type { Action } from './actions.js';
import type { RolloutEvent } from './events.js';
import type { RolloutState } from './state.js';

/** What one sub-step of a decision produces; decide() threads the state through them in order. */
export interface Stepped {
  readonly state: RolloutState;
  readonly events: readonly RolloutEvent[];
  readonly actions: readonly Action[];
}

/** A sub-step that changed nothing but the state (or not even that). */
export function only(state: RolloutState): Stepped {
  return { state, events: [], actions: [] };
}
