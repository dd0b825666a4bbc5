/**
 * Property: whatever the sizes, the health of the new revision and where the controller crashes,
 * the rollout keeps its invariants at every action (checked by the World) and ends in one of the
 * two clean states: all new and serving, or (rolled back) all old and serving.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Intent } from '../../src/rollout/index.js';
import { drive, testPlan, type Crash } from './rollout-drive.js';
import { World, type Script } from './rollout-world.js';

type Health =
  | { readonly kind: 'all-healthy' }
  | {
      readonly kind: 'new-fails';
      readonly nth: number;
      readonly how: 'never' | 'crash' | 'crash-loop' | 'late';
    }
  | { readonly kind: 'error-rate' };

const sizes = fc
  .record({
    replicas: fc.integer({ min: 1, max: 8 }),
    maxSurge: fc.integer({ min: 0, max: 4 }),
    maxUnavailable: fc.integer({ min: 0, max: 4 }),
  })
  .filter((s) => s.maxSurge + s.maxUnavailable > 0);

const health: fc.Arbitrary<Health> = fc.oneof(
  fc.constant({ kind: 'all-healthy' } as const),
  fc.record({
    kind: fc.constant('new-fails' as const),
    nth: fc.integer({ min: 0, max: 7 }),
    how: fc.constantFrom('never', 'crash', 'crash-loop', 'late'),
  }),
  fc.constant({ kind: 'error-rate' } as const),
);

const crash: fc.Arbitrary<Crash> = fc.record({
  applied: fc.integer({ min: 0, max: 4 }),
  stateLost: fc.boolean(),
});

type People =
  | { readonly kind: 'none' }
  | { readonly kind: 'pause'; readonly at: number; readonly steps: number }
  | { readonly kind: 'abort'; readonly at: number };

const people: fc.Arbitrary<People> = fc.oneof(
  fc.constant({ kind: 'none' } as const),
  fc.record({
    kind: fc.constant('pause' as const),
    at: fc.integer({ min: 0, max: 40 }),
    steps: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({ kind: fc.constant('abort' as const), at: fc.integer({ min: 0, max: 40 }) }),
);

function intentsOf(p: People) {
  return (step: number): Intent[] => {
    if (p.kind === 'abort' && step === p.at) return [{ kind: 'abort' }];
    if (p.kind === 'pause' && step === p.at) return [{ kind: 'pause' }];
    if (p.kind === 'pause' && step === p.at + p.steps) return [{ kind: 'resume' }];
    return [];
  };
}

const scenario = fc.record({
  people,
  sizes,
  health,
  firstDeploy: fc.boolean(),
  autoRollback: fc.boolean(),
  bakeIntervals: fc.integer({ min: 0, max: 4 }),
  bootIntervals: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 16, maxLength: 16 }),
  crashes: fc.dictionary(fc.integer({ min: 0, max: 80 }).map(String), crash, { maxKeys: 6 }),
});

function scriptFor(h: Health, boot: readonly number[]) {
  return (role: 'to' | 'from', n: number): Script => {
    const bootMs = (boot[n % boot.length] ?? 0) * 1_000;
    if (role === 'from' || h.kind !== 'new-fails' || n !== h.nth)
      return { kind: 'healthy', bootMs };
    switch (h.how) {
      case 'never':
        return { kind: 'never' };
      case 'crash':
        return { kind: 'crash', afterMs: bootMs + 1_000, exitCode: 137 };
      case 'crash-loop':
        return { kind: 'crash-loop', everyMs: 1_000 };
      case 'late':
        return { kind: 'late', bootMs, failAfterMs: bootMs + 4_000 };
    }
  };
}

/**
 * Termination bound: a batch (boot ≤ 5 probes, route, unroute, 2 s drain, stop, next start) takes
 * at most ~10 steps and there are at most `replicas` batches each way, plus one progress deadline
 * (30 steps) and the bake.
 */
const stepBound = (replicas: number, paused: number): number => 25 * replicas + 60 + paused;

describe('rollout invariants (property)', () => {
  it('hold at every action and the rollout ends clean', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const plan = testPlan({
          ...sc.sizes,
          firstDeploy: sc.firstDeploy,
          autoRollback: sc.autoRollback,
          bakeMs: sc.bakeIntervals * 1_000,
        });
        const world = new World({
          plan,
          script: scriptFor(sc.health, sc.bootIntervals),
          errorRate: sc.health.kind === 'error-rate' ? () => 0.5 : () => 0,
        });
        const run = drive(world, {
          maxSteps: stepBound(plan.replicas, sc.people.kind === 'pause' ? sc.people.steps : 0),
          intents: intentsOf(sc.people),
          crashAt: (step) => sc.crashes[String(step)],
        });

        expect(world.violations).toEqual([]);
        const stateLost = Object.values(sc.crashes).some((c) => c.stateLost);
        if (!stateLost) expect(world.reusedSlots).toEqual([]);
        const done = run.finish;
        expect(done, `not finished after ${run.steps} steps`).not.toBeNull();
        if (done === null) return;
        const fresh = world.of(plan.to.sha);
        const old = world.of(plan.from?.sha);
        const bakeFails = sc.health.kind === 'error-rate' && sc.bakeIntervals > 0;
        const healthy =
          sc.health.kind === 'all-healthy' || (sc.health.kind === 'error-rate' && !bakeFails);
        if (healthy && sc.people.kind !== 'abort') expect(done.outcome).toBe('succeeded');
        if (done.outcome === 'succeeded') {
          expect(fresh).toHaveLength(plan.replicas);
          expect(fresh.every((i) => i.routed && i.state === 'running')).toBe(true);
          expect(old).toHaveLength(0);
          expect(world.instances).toHaveLength(plan.replicas);
        } else {
          const aborted = done.outcome === 'aborted';
          expect(done.outcome).toBe(aborted ? 'aborted' : 'failed');
          if (!aborted) expect(done.failure).not.toBeNull();
          if (plan.autoRollback || aborted) {
            expect(done.restored).toBe(true);
            expect(fresh).toHaveLength(0);
            const restored = sc.firstDeploy ? 0 : plan.replicas;
            expect(old).toHaveLength(restored);
            expect(old.every((i) => i.routed && i.state === 'running')).toBe(true);
            expect(world.instances).toHaveLength(restored);
          } else {
            expect(done.restored).toBe(false);
          }
        }
      }),
      { numRuns: Number(process.env.ROLLOUT_RUNS ?? 400) },
    );
  }, 120_000);
});
