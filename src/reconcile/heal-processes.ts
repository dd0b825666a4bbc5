/**
 * The reconciler's decision for every process type of an environment: one `heal` pass per process
 * type over its own instances, with its own replica count, health rules and state, merged into one
 * decision. Pure, like heal.ts. Slots are numbered across all process types (each pass starts
 * where the one before stopped), so no two starts of the environment ever share a slot.
 */
import { processName } from '../config/processes.js';
import { orderActions } from '../rollout/actions.js';
import type { ProcessPlan } from '../rollout/plan.js';
import type { HealEvent } from './events.js';
import {
  EMPTY_HEAL_STATE,
  heal,
  type HealDecision,
  type HealInstance,
  type HealPlan,
  type HealState,
} from './heal.js';

/** One process type's count, for the status: how many should run, how many are ready. */
export interface ProcessCount {
  readonly name: string;
  readonly desired: number;
  readonly ready: number;
  readonly routed: boolean;
}

export interface ProcessesDecision extends Omit<HealDecision, 'state'> {
  /** Each process type's state, by name. */
  readonly states: Readonly<Record<string, HealState>>;
  readonly processes: readonly ProcessCount[];
}

/** The plan shared by every process type; each pass adds its replicas, health and routing. */
export type SharedHealPlan = Omit<HealPlan, 'replicas' | 'health' | 'process' | 'routed'>;

/**
 * Decides one reconcile pass over every process type. Instances of a process type the plan does
 * not know (it left the spec) are healed towards zero.
 */
export function healProcesses(
  shared: SharedHealPlan,
  processes: readonly ProcessPlan[],
  states: Readonly<Record<string, HealState>>,
  observed: readonly HealInstance[],
  now: number,
): ProcessesDecision {
  const groups = new Map<string, { process: ProcessPlan; instances: HealInstance[] }>();
  for (const p of processes) groups.set(p.name, { process: p, instances: [] });
  for (const o of observed) {
    const name = processName(o.process);
    let g = groups.get(name);
    if (g === undefined) {
      const fallback = processes[0];
      if (fallback === undefined) continue;
      g = { process: { ...fallback, name, replicas: 0, routed: false }, instances: [] };
      groups.set(name, g);
    }
    g.instances.push(o);
  }
  let nextSlot = 0;
  for (const s of Object.values(states)) nextSlot = Math.max(nextSlot, s.nextSlot);

  const out: Record<string, HealState> = {};
  const counts: ProcessCount[] = [];
  const actions: HealDecision['actions'][number][] = [];
  const events: HealEvent[] = [];
  const judged: HealDecision['judged'][number][] = [];
  const drift: string[] = [];
  let pendingStarts = 0;
  let backoffUntil: number | null = null;
  const several = groups.size > 1;
  for (const [name, { process, instances }] of groups) {
    const plan: HealPlan = {
      ...shared,
      replicas: process.replicas,
      health: process.health,
      process: name,
      routed: process.routed,
    };
    const state = { ...(states[name] ?? EMPTY_HEAL_STATE), nextSlot };
    const d = heal(plan, state, instances, now);
    nextSlot = d.state.nextSlot;
    out[name] = d.state;
    actions.push(...d.actions);
    events.push(...d.events);
    judged.push(...d.judged);
    drift.push(...(several ? d.drift.map((line) => `${name}: ${line}`) : d.drift));
    pendingStarts += d.pendingStarts;
    if (d.backoffUntil !== null) backoffUntil = Math.min(backoffUntil ?? Infinity, d.backoffUntil);
    const ready = d.judged.filter(
      (j) => j.verdict === 'healthy' && (j.instance.routed || !process.routed),
    ).length;
    counts.push({ name, desired: process.replicas, ready, routed: process.routed });
  }
  // In the order the runtime listed them, whatever the process: the status reads as a table.
  const order = new Map(observed.map((o, n) => [o.id, n]));
  judged.sort((a, b) => (order.get(a.instance.id) ?? 0) - (order.get(b.instance.id) ?? 0));
  return {
    states: out,
    actions: orderActions(actions),
    events,
    judged,
    pendingStarts,
    drift,
    backoffUntil,
    processes: counts,
  };
}
