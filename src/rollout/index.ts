/**
 * The rollout core: pure decisions about moving an app environment from one revision to another.
 * Nothing here performs I/O or reads a clock; see decide.ts for the loop that drives it.
 */
export { describeAction, orderActions, type Action } from './actions.js';
export { assertNever } from './assert-never.js';
export { applyIntents, standStill, supersede } from './control.js';
export { decide, type DecideInput, type Decision } from './decide.js';
export { nextDue } from './due.js';
export type { RolloutEvent } from './events.js';
export {
  freshTally,
  tallyHealth,
  type HealthStatus,
  type HealthTally,
  type UnhealthyCause,
} from './health.js';
export type { Intent } from './intent.js';
export type { EdgeStats, Observed, ObservedInstance, Probe, RuntimeState } from './observed.js';
export { describePhase, phaseOf, type Phase } from './phase.js';
export {
  DEFAULT_DRAIN_MS,
  DEFAULT_ERROR_BUDGET,
  DEFAULT_MAX_RESTARTS,
  instanceRelease,
  planRollout,
  processPlan,
  processPlans,
  runsRevision,
  slotName,
  slotNumber,
  type ErrorBudget,
  type HealthRules,
  type PlanInput,
  type ProcessPlan,
  type Revision,
  type RolloutKind,
  type RolloutPlan,
} from './plan.js';
export {
  initialState,
  type Evidence,
  type Failure,
  type Finished,
  type Outcome,
  type Role,
  type RolloutState,
  type StopReason,
  type TrackedInstance,
} from './state.js';
