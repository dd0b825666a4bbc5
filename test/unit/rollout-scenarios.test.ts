/**
 * Every transition of the rollout state machine, driven end to end through the simulated world:
 * one named case per row, each with its plan, its world, what people ask, and what must come out.
 */
import { describe, expect, it } from 'vitest';
import type { Decision, Failure, Intent, Phase } from '../../src/rollout/index.js';
import { NEW, OLD, drive, testPlan, type PlanKnobs } from './rollout-drive.js';
import { World, type Script, type WorldOptions } from './rollout-world.js';

interface Case {
  readonly name: string;
  readonly plan?: PlanKnobs;
  readonly world?: Omit<WorldOptions, 'plan'>;
  readonly intents?: Readonly<Record<number, Intent[]>>;
  readonly expect: {
    readonly outcome: 'succeeded' | 'failed' | 'aborted';
    readonly restored?: boolean;
    readonly failure?: Partial<Failure>;
    /** The phases a person would have seen, in order. */
    readonly phases: readonly Phase['kind'][];
    /** Instances of each revision left at the end, and whether all of them are routed. */
    readonly left: { readonly old: number; readonly new: number; readonly allRouted: boolean };
    /** At most this many instances existed at once. */
    readonly peak?: number;
    /** At most this many starts were asked for in one decision. */
    readonly startsAtOnce?: number;
  };
}

const failNew =
  (nth: number, script: Script) =>
  (role: 'to' | 'from', n: number): Script =>
    role === 'to' && n === nth ? script : { kind: 'healthy', bootMs: 1_000 };

const cases: Case[] = [
  {
    name: 'first deploy: starts replicas (maxSurge bounds how many boot at once) and routes each when healthy',
    plan: { firstDeploy: true, replicas: 3, maxSurge: 1 },
    expect: {
      outcome: 'succeeded',
      phases: ['pending', 'progressing', 'succeeded'],
      left: { old: 0, new: 3, allRouted: true },
      peak: 3,
      startsAtOnce: 1,
    },
  },
  {
    name: 'rolling update, 3 replicas, maxSurge 1, maxUnavailable 0: one extra at a time, the next starting while the old one drains',
    plan: { replicas: 3, maxSurge: 1, maxUnavailable: 0 },
    expect: {
      outcome: 'succeeded',
      phases: ['pending', 'progressing', 'succeeded'],
      left: { old: 0, new: 3, allRouted: true },
      // 3 serving + 1 booting + 1 unrouted old one draining (terminating: off the surge budget).
      peak: 5,
      startsAtOnce: 1,
    },
  },
  {
    name: 'rolling update with maxSurge 2: two extra at a time, in parallel with the drains',
    plan: { replicas: 3, maxSurge: 2, maxUnavailable: 0 },
    expect: {
      outcome: 'succeeded',
      phases: ['pending', 'progressing', 'succeeded'],
      left: { old: 0, new: 3, allRouted: true },
      // Never more than replicas + 2 × maxSurge (7): the last new one boots while two drain.
      peak: 6,
      startsAtOnce: 2,
    },
  },
  {
    name: 'rolling update with maxUnavailable 1 and no surge: an old one leaves before a new one starts',
    plan: { replicas: 3, maxSurge: 0, maxUnavailable: 1 },
    expect: {
      outcome: 'succeeded',
      phases: ['pending', 'progressing', 'succeeded'],
      left: { old: 0, new: 3, allRouted: true },
      peak: 3,
      startsAtOnce: 1,
    },
  },
  {
    name: 'a new instance never turns healthy: rolled back, old revision at full strength',
    plan: { replicas: 3 },
    world: { script: failNew(1, { kind: 'never' }) },
    expect: {
      outcome: 'failed',
      restored: true,
      failure: { check: 'unhealthy', during: 'rolling', slot: 'r1-1', cause: 'probes' },
      phases: ['pending', 'progressing', 'rolling-back', 'rolled-back'],
      left: { old: 3, new: 0, allRouted: true },
      // r1-1 boots while the old one r1-0 replaced drains.
      peak: 5,
    },
  },
  {
    name: 'a new instance exits: unhealthy at once, with its exit code',
    plan: { replicas: 2, unhealthyThreshold: 10 },
    world: { script: failNew(0, { kind: 'crash', afterMs: 1_000, exitCode: 137 }) },
    expect: {
      outcome: 'failed',
      restored: true,
      failure: { check: 'unhealthy', cause: 'exited', exitCode: 137 },
      phases: ['pending', 'progressing', 'rolling-back', 'rolled-back'],
      left: { old: 2, new: 0, allRouted: true },
    },
  },
  {
    name: 'a new instance crash-loops: unhealthy at once',
    plan: { replicas: 2, unhealthyThreshold: 10 },
    world: { script: failNew(0, { kind: 'crash-loop', everyMs: 1_000 }) },
    expect: {
      outcome: 'failed',
      restored: true,
      failure: { check: 'unhealthy', cause: 'crash-loop', detail: 'r1-0: restarted 2 times' },
      phases: ['pending', 'progressing', 'rolling-back', 'rolled-back'],
      left: { old: 2, new: 0, allRouted: true },
    },
  },
  {
    name: 'no progress before the deadline (still in its start period): rolled back',
    plan: { replicas: 2, startPeriodMs: 600_000, progressDeadlineMs: 10_000 },
    world: { script: failNew(0, { kind: 'never' }) },
    expect: {
      outcome: 'failed',
      restored: true,
      failure: { check: 'progress-deadline', during: 'rolling', deadlineMs: 10_000 },
      phases: ['pending', 'progressing', 'rolling-back', 'rolled-back'],
      left: { old: 2, new: 0, allRouted: true },
    },
  },
  {
    name: 'a new instance fails during bake: rolled back',
    plan: { replicas: 2, bakeMs: 20_000 },
    world: { script: failNew(0, { kind: 'late', bootMs: 1_000, failAfterMs: 15_000 }) },
    expect: {
      outcome: 'failed',
      restored: true,
      failure: { check: 'unhealthy', during: 'baking', slot: 'r1-0', cause: 'probes' },
      phases: ['pending', 'progressing', 'baking', 'rolling-back', 'rolled-back'],
      left: { old: 2, new: 0, allRouted: true },
    },
  },
  {
    name: 'the edge error rate is too high during bake: rolled back',
    plan: { replicas: 2, bakeMs: 20_000 },
    world: { errorRate: () => 0.2 },
    expect: {
      outcome: 'failed',
      restored: true,
      failure: { check: 'error-rate', during: 'baking', errorRate: 0.2, maxErrorRate: 0.05 },
      phases: ['pending', 'progressing', 'baking', 'rolling-back', 'rolled-back'],
      left: { old: 2, new: 0, allRouted: true },
    },
  },
  {
    name: 'a healthy bake succeeds',
    plan: { replicas: 2, bakeMs: 5_000 },
    world: { errorRate: () => 0.01 },
    expect: {
      outcome: 'succeeded',
      phases: ['pending', 'progressing', 'baking', 'succeeded'],
      left: { old: 0, new: 2, allRouted: true },
    },
  },
  {
    name: 'paused longer than the deadline, then resumed: nothing moves meanwhile, then it succeeds',
    plan: { replicas: 3, progressDeadlineMs: 10_000 },
    intents: { 3: [{ kind: 'pause' }], 40: [{ kind: 'resume' }] },
    expect: {
      outcome: 'succeeded',
      phases: ['pending', 'progressing', 'paused', 'progressing', 'succeeded'],
      left: { old: 0, new: 3, allRouted: true },
    },
  },
  {
    name: 'abort: back to the old revision, outcome aborted',
    plan: { replicas: 3 },
    intents: { 8: [{ kind: 'abort' }] },
    expect: {
      outcome: 'aborted',
      restored: true,
      phases: ['pending', 'progressing', 'rolling-back', 'aborted'],
      left: { old: 3, new: 0, allRouted: true },
    },
  },
  {
    name: 'autoRollback off: fails where it stands, keeping what serves',
    plan: { replicas: 3, autoRollback: false },
    world: { script: failNew(1, { kind: 'never' }) },
    expect: {
      outcome: 'failed',
      restored: false,
      failure: { check: 'unhealthy', slot: 'r1-1' },
      phases: ['pending', 'progressing', 'failed'],
      // r1-0 serves, the failed r1-1 stays for its logs, two old ones still serve; the old one
      // r1-0 replaced was still draining (unrouted) when the rollout stopped where it stood.
      left: { old: 3, new: 2, allRouted: false },
    },
  },
  {
    name: 'first deploy fails: the new instances are removed, nothing to restore',
    plan: { firstDeploy: true, replicas: 2, maxSurge: 2 },
    world: { script: failNew(1, { kind: 'crash', afterMs: 2_000, exitCode: 1 }) },
    expect: {
      outcome: 'failed',
      restored: true,
      failure: { check: 'unhealthy', cause: 'exited' },
      phases: ['pending', 'progressing', 'rolling-back', 'rolled-back'],
      left: { old: 0, new: 0, allRouted: true },
    },
  },
];

describe('rollout scenarios', () => {
  it.each(cases)('$name', (c) => {
    const plan = testPlan(c.plan);
    const world = new World({ plan, ...c.world });
    let peak = world.instances.length;
    const run = drive(world, {
      intents: (step) => c.intents?.[step] ?? [],
      onStep: (_step, _d, w) => {
        peak = Math.max(peak, w.instances.length);
      },
    });

    expect(world.violations).toEqual([]);
    expect(world.reusedSlots).toEqual([]);
    const done = run.finish;
    expect(done).toMatchObject({ outcome: c.expect.outcome });
    if (c.expect.restored !== undefined) expect(done?.restored).toBe(c.expect.restored);
    if (c.expect.failure !== undefined) expect(done?.failure).toMatchObject(c.expect.failure);
    expect(phasesSeen(run.decisions)).toEqual(c.expect.phases);
    const old = world.of(OLD.sha);
    const fresh = world.of(NEW.sha);
    expect({ old: old.length, new: fresh.length }).toEqual({
      old: c.expect.left.old,
      new: c.expect.left.new,
    });
    expect([...old, ...fresh].every((i) => i.routed)).toBe(c.expect.left.allRouted);
    if (c.expect.peak !== undefined) expect(peak).toBe(c.expect.peak);
    if (c.expect.startsAtOnce !== undefined)
      expect(Math.max(...run.decisions.map(startCount))).toBe(c.expect.startsAtOnce);
  });
});

describe('rollout scenario details', () => {
  it('evidence names the probes that failed the instance', () => {
    const plan = testPlan({ replicas: 1 });
    const world = new World({ plan, script: failNew(0, { kind: 'never' }) });
    const run = drive(world);
    const failure = run.finish?.failure;
    expect(failure?.check).toBe('unhealthy');
    if (failure?.check !== 'unhealthy') return;
    expect(failure.probes.slice(-3).map((p) => [p.ok, p.detail])).toEqual([
      [false, '503'],
      [false, '503'],
      [false, '503'],
    ]);
    expect(run.state.evidence.some((e) => e.slot === 'r1-0' && e.status === 'unhealthy')).toBe(
      true,
    );
  });

  it('while paused, no instance is started, routed, unrouted or stopped', () => {
    const plan = testPlan({ replicas: 3 });
    const world = new World({ plan });
    const run = drive(world, {
      intents: (step) =>
        step === 3 ? [{ kind: 'pause' }] : step === 40 ? [{ kind: 'resume' }] : [],
    });
    const paused = run.decisions.slice(3, 40);
    expect(paused.flatMap((d) => d.actions)).toEqual([]);
    expect(run.finish?.outcome).toBe('succeeded');
  });

  it('an exit is caught at the first observation, before any probe threshold', () => {
    const plan = testPlan({ replicas: 1, unhealthyThreshold: 50 });
    const world = new World({
      plan,
      script: failNew(0, { kind: 'crash', afterMs: 3_000, exitCode: 2 }),
    });
    const run = drive(world);
    // Started at the first decision (t0), exited 3 s later: failed at that very observation.
    expect(run.finish?.failure).toMatchObject({ at: 1_003_000, cause: 'exited', exitCode: 2 });
  });

  it('starts each next new instance while the old one it replaced still drains', () => {
    const plan = testPlan({ replicas: 3, maxSurge: 1, maxUnavailable: 0 });
    const overlapping: boolean[] = [];
    const run = drive(new World({ plan }), {
      onStep: (_step, d, w) => {
        if (!d.actions.some((a) => a.kind === 'start')) return;
        overlapping.push(w.of(OLD.sha).some((i) => !i.routed && i.everRouted));
      },
    });
    // The first start has nothing to overlap; each later one starts beside a draining old one.
    expect(overlapping).toEqual([false, true, true]);
    expect(run.finish?.outcome).toBe('succeeded');
  });

  it('spreads replicas over hosts round-robin', () => {
    const plan = testPlan({ firstDeploy: true, replicas: 5, maxSurge: 5, hosts: ['a', 'b', 'c'] });
    const world = new World({ plan });
    drive(world);
    expect(world.instances.map((i) => `${i.slot}@${i.host}`)).toEqual([
      'r1-0@a',
      'r1-1@b',
      'r1-2@c',
      'r1-3@a',
      'r1-4@b',
    ]);
  });
});

function phasesSeen(decisions: readonly Decision[]): Phase['kind'][] {
  const kinds: Phase['kind'][] = ['pending'];
  for (const d of decisions)
    for (const e of d.events)
      if (e.kind === 'phase-changed' && kinds[kinds.length - 1] !== e.phase.kind)
        kinds.push(e.phase.kind);
  return kinds;
}

function startCount(d: Decision): number {
  return d.actions.filter((a) => a.kind === 'start').length;
}
