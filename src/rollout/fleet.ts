/** Counting questions about the tracked instances, shared by the rolling step, checks and phase. */
import { processName } from '../config/processes.js';
import { processPlan, processPlans, type ProcessPlan, type RolloutPlan } from './plan.js';
import { desiredOf, type Direction, type TrackedInstance } from './state.js';

/**
 * Healthy, running and not on its way out; for a routed process also (as last observed)
 * receiving traffic: an unrouted process (a worker) serves by running.
 */
export function isServing(i: TrackedInstance, routed = true): boolean {
  return i.retire === null && isUp(i) && (i.routed || !routed);
}

/** Running and healthy by the tally. */
export function isUp(i: TrackedInstance): boolean {
  return i.runtime === 'running' && i.health.status === 'healthy';
}

/** An instance of the revision the rollout is heading to, meant to stay. */
export function isActiveTarget(i: TrackedInstance, dir: Direction): boolean {
  return i.role === dir.target && i.retire === null;
}

/**
 * The instances per process type: every process of the plan (possibly with none), then those
 * only instances name (a process type the spec no longer has: it wants none). Linear.
 */
export function byProcess<T extends TrackedInstance>(
  plan: RolloutPlan,
  instances: readonly T[],
): Map<string, { readonly process: ProcessPlan; readonly instances: T[] }> {
  const out = new Map<string, { process: ProcessPlan; instances: T[] }>();
  for (const p of processPlans(plan)) out.set(p.name, { process: p, instances: [] });
  for (const i of instances) {
    const name = processName(i.process);
    let group = out.get(name);
    if (group === undefined) {
      group = { process: processPlan(plan, name), instances: [] };
      out.set(name, group);
    }
    group.instances.push(i);
  }
  return out;
}

/** How many target instances serve, each process capped at its desired count: the "step k of n". */
export function stepOf(
  plan: RolloutPlan,
  instances: readonly TrackedInstance[],
  dir: Direction,
): number {
  let step = 0;
  for (const { process, instances: group } of byProcess(plan, instances).values()) {
    const serving = group.filter(
      (i) => isActiveTarget(i, dir) && isServing(i, process.routed),
    ).length;
    step += Math.min(serving, desiredOf(dir, process));
  }
  return step;
}

/**
 * Every process has exactly its desired target instances serving, and nothing else exists: the
 * end of a rollout. A process type left behind fails it, so no two releases stay mixed.
 */
export function isConverged(
  plan: RolloutPlan,
  instances: readonly TrackedInstance[],
  dir: Direction,
): boolean {
  for (const { process, instances: group } of byProcess(plan, instances).values()) {
    if (group.length !== desiredOf(dir, process)) return false;
    if (!group.every((i) => isActiveTarget(i, dir) && isServing(i, process.routed))) return false;
  }
  return true;
}

/** The new revision carries all the traffic, and every process runs it in full: what bake waits for. */
export function carriesAllTraffic(
  plan: RolloutPlan,
  instances: readonly TrackedInstance[],
  dir: Direction,
): boolean {
  for (const { process, instances: group } of byProcess(plan, instances).values()) {
    const targets = group.filter((i) => isActiveTarget(i, dir));
    if (targets.length !== desiredOf(dir, process)) return false;
    if (!targets.every((i) => isServing(i, process.routed))) return false;
    if (!group.every((i) => isActiveTarget(i, dir) || !i.routed)) return false;
  }
  return true;
}
