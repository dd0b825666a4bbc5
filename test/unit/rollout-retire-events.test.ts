/**
 * A retiring instance that exits does what its stop asked: the rollout's events carry no
 * "unhealthy: exited with code 143" line for it (they did on every scale-down and restart),
 * while an instance the rollout still wants that exits is reported as before.
 */
import { describe, expect, it } from 'vitest';
import type { Observed, RolloutState } from '../../src/rollout/index.js';
import { reconcile } from '../../src/rollout/reconcile.js';
import { drive, testPlan } from './rollout-drive.js';
import { World } from './rollout-world.js';

/** `observed` with the instance of `slot` exited 143 (SIGTERM), as a stop leaves it. */
function exited(observed: Observed, slot: string): Observed {
  return {
    ...observed,
    instances: observed.instances.map((i) =>
      i.slot === slot ? { ...i, state: 'exited', exitCode: 143, routed: false } : i,
    ),
  };
}

describe('health lines of instances on their way out', () => {
  const plan = testPlan({ replicas: 2 });
  const world = new World({ plan });
  // Drive until an old instance is retiring (drained, its stop asked for or about to be).
  let retiring: { state: RolloutState; slot: string; observed: Observed } | undefined;
  drive(world, {
    onStep: (_step, decision, w) => {
      const r = decision.state.instances.find((i) => i.retire !== null && i.id !== null);
      if (r === undefined) return true;
      retiring = { state: decision.state, slot: r.slot, observed: w.observe() };
      return false;
    },
  });

  it('reports no health change for a retiring instance that exits', () => {
    expect(retiring).toBeDefined();
    const { state, slot, observed } = retiring!;
    const next = reconcile(plan, state, exited(observed, slot), world.now);
    expect(next.events.filter((e) => e.kind === 'instance-health')).toEqual([]);
  });

  it('still reports an instance the rollout wants that exits', () => {
    const { state, observed } = retiring!;
    const kept = state.instances.find((i) => i.retire === null && i.id !== null);
    expect(kept).toBeDefined();
    const next = reconcile(plan, state, exited(observed, kept!.slot), world.now);
    expect(next.events).toContainEqual(
      expect.objectContaining({
        kind: 'instance-health',
        evidence: expect.objectContaining({ slot: kept!.slot, status: 'unhealthy' }),
      }),
    );
  });
});
