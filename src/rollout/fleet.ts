/** Counting questions about the tracked instances, shared by the rolling step, checks and phase. */
import type { Direction, TrackedInstance } from './state.js';

/** Healthy, running and (as last observed) receiving traffic, and not on its way out. */
export function isServing(i: TrackedInstance): boolean {
  return i.retire === null && i.routed && isUp(i);
}

/** Running and healthy by the tally. */
export function isUp(i: TrackedInstance): boolean {
  return i.runtime === 'running' && i.health.status === 'healthy';
}

/** An instance of the revision the rollout is heading to, meant to stay. */
export function isActiveTarget(i: TrackedInstance, dir: Direction): boolean {
  return i.role === dir.target && i.retire === null;
}

/** How many target instances serve, capped at the desired count: the "step k of n". */
export function stepOf(instances: readonly TrackedInstance[], dir: Direction): number {
  const serving = instances.filter((i) => isActiveTarget(i, dir) && isServing(i)).length;
  return Math.min(serving, dir.desired);
}

/** Exactly the desired target instances serve, and nothing else exists: the end of a rollout. */
export function isConverged(instances: readonly TrackedInstance[], dir: Direction): boolean {
  return (
    instances.length === dir.desired &&
    instances.every((i) => isActiveTarget(i, dir) && isServing(i))
  );
}

/** The new revision carries all the traffic: what bake waits for. */
export function carriesAllTraffic(instances: readonly TrackedInstance[], dir: Direction): boolean {
  const targets = instances.filter((i) => isActiveTarget(i, dir));
  return (
    targets.length === dir.desired &&
    targets.every(isServing) &&
    instances.every((i) => isActiveTarget(i, dir) || !i.routed)
  );
}
