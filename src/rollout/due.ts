/**
 * When the core will next decide something that no news (probe result, runtime change) brings
 * about: a drain running out, the bake ending. The loop sleeps until then rather than a whole
 * tick, so an old instance is stopped when its drain ends, not up to a tick later.
 */
import type { RolloutPlan } from './plan.js';
import type { RolloutState } from './state.js';

/** The earliest such time (epoch ms), or null when only news can move the rollout. */
export function nextDue(plan: RolloutPlan, state: RolloutState): number | null {
  if (state.finished !== null || state.pausedAt !== null) return null;
  let due: number | null = null;
  const at = (t: number) => (due = due === null ? t : Math.min(due, t));
  for (const i of state.instances) {
    const r = i.retire;
    if (r !== null && r.drainFrom !== null && r.stopAt === null) at(r.drainFrom + plan.drainMs);
  }
  if (state.bakeStartedAt !== null && plan.bakeMs > 0) at(state.bakeStartedAt + plan.bakeMs);
  return due;
}
