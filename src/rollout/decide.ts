/**
 * The rollout state machine: one pure decision from the plan, the persisted state, what the world
 * looks like now and what people asked for. No I/O, no clock, no randomness: the executor calls it
 * in a loop (observe → decide → persist → act), and a new process resumes a rollout by calling it
 * with the persisted state and a fresh observation.
 *
 *   let state = (await store.load(id)) ?? initialState(plan);
 *   for (;;) {
 *     const observed = await observe(plan);            // runtime.list + prober buffers + edge
 *     const d = decide({ plan, state, observed, intents: await intents.peek(id), now: Date.now() });
 *     await store.save(id, d.state);                   // persist BEFORE acting: a crash loses
 *     await intents.ack(id);                           //   actions (repeated next time), never decisions
 *     publish(d.events);
 *     for (const a of d.actions) await apply(a);       // in order; stop at the first error
 *     if (d.actions.some((a) => a.kind === 'finish')) break;
 *     await sleep(plan.health.intervalMs);
 *   }
 */
import { orderActions, type Action } from './actions.js';
import { judge } from './checks.js';
import { conclude, finishAction } from './conclude.js';
import { applyIntents } from './control.js';
import type { RolloutEvent } from './events.js';
import type { Intent } from './intent.js';
import type { Observed } from './observed.js';
import { phaseOf, samePhase } from './phase.js';
import { processName } from '../config/processes.js';
import { processPlans, type ProcessPlan, type RolloutPlan } from './plan.js';
import { reconcile } from './reconcile.js';
import { roll } from './rolling.js';
import { directionOf, type RolloutState } from './state.js';
import type { Stepped } from './step.js';

export interface DecideInput {
  readonly plan: RolloutPlan;
  readonly state: RolloutState;
  readonly observed: Observed;
  /** Collected since the last decision; applied once. */
  readonly intents: readonly Intent[];
  /** Milliseconds since the epoch; the only clock the core knows. */
  readonly now: number;
}

export interface Decision {
  readonly state: RolloutState;
  /** In the order to apply them; stop at the first failure. */
  readonly actions: readonly Action[];
  readonly events: readonly RolloutEvent[];
}

/** Decides the next actions of a rollout. Safe to repeat: the same input gives the same output. */
export function decide(input: DecideInput): Decision {
  const { plan, observed, intents, now } = input;
  if (input.state.rolloutId !== plan.rolloutId)
    throw new RangeError(
      `state of rollout ${input.state.rolloutId} given with plan ${plan.rolloutId}`,
    );
  // A finished rollout repeats its finish action, in case the process died before applying it.
  if (input.state.finished !== null)
    return { state: input.state, actions: [finishAction(input.state)], events: [] };

  const unreachable = observed.unreachable ?? [];
  const away = new Set(unreachable.map((u) => u.host));
  const steps: ((s: RolloutState) => Stepped)[] = [
    (s) => ({ state: begin(s, now), events: [], actions: [] }),
    (s) => applyIntents(s, intents, now),
    (s) => reconcile(plan, s, observed, now),
    (s) => judge(plan, s, observed.edge, now, unreachable),
    (s) => withinReach(plan, s, away, (p, r) => roll(p, r, now)),
    (s) => withinReach(plan, s, away, (p, r) => conclude(p, r, now)),
  ];
  let state = input.state;
  const events: RolloutEvent[] = [];
  const actions: Action[] = [];
  for (const step of steps) {
    const out = step(state);
    state = out.state;
    events.push(...out.events);
    actions.push(...out.actions);
  }

  const previous = phaseOf(plan, input.state);
  const phase = phaseOf(plan, state);
  if (!samePhase(previous, phase)) events.push({ kind: 'phase-changed', at: now, phase, previous });
  return { state, actions: orderActions(actions), events };
}

/**
 * Runs a step on the hosts that answer. The instances of an unreachable host stay as last seen,
 * untouched: nothing can be done there. Those of them that served the direction's target still
 * count as its replicas (unknown, not gone), so the way back restores the hosts that answer to
 * what they ran, no more; the new revision's leftovers there are the reconciler's once the host
 * returns. Placement uses the hosts that answer only.
 */
function withinReach(
  plan: RolloutPlan,
  state: RolloutState,
  away: ReadonlySet<string>,
  step: (plan: RolloutPlan, s: RolloutState) => Stepped,
): Stepped {
  if (away.size === 0) return step(plan, state);
  const far = state.instances.filter((i) => away.has(i.host));
  const target = directionOf(plan, state).target;
  const held = (p: ProcessPlan): number =>
    far.filter(
      (i) =>
        processName(i.process) === p.name &&
        i.role === target &&
        i.retire === null &&
        i.health.status === 'healthy',
    ).length;
  const processes = processPlans(plan).map((p) => ({
    ...p,
    replicas: Math.max(0, p.replicas - held(p)),
  }));
  const live: RolloutPlan = {
    ...plan,
    hosts: plan.hosts.filter((h) => !away.has(h)),
    processes,
    replicas: (processes.find((p) => p.routed) ?? processes[0])?.replicas ?? 0,
  };
  const out = step(live, { ...state, instances: state.instances.filter((i) => !away.has(i.host)) });
  return { ...out, state: { ...out.state, instances: [...out.state.instances, ...far] } };
}

function begin(state: RolloutState, now: number): RolloutState {
  if (state.startedAt !== null) return state;
  return { ...state, startedAt: now, lastProgressAt: now };
}
