/**
 * Resuming after a crash: a new process calls decide with the persisted state (through JSON) and a
 * fresh observation. Nothing may be started twice, and nothing the runtime runs may be orphaned.
 */
import { describe, expect, it } from 'vitest';
import { decide, initialState, type Decision, type RolloutState } from '../../src/rollout/index.js';
import { OLD, drive, testPlan } from './rollout-drive.js';
import { World } from './rollout-world.js';

const viaJson = (s: RolloutState): RolloutState => JSON.parse(JSON.stringify(s)) as RolloutState;

function step(world: World, state: RolloutState): Decision {
  return decide({
    plan: world.plan,
    state,
    observed: world.observe(),
    intents: [],
    now: world.now,
  });
}

describe('resuming a rollout', () => {
  it('state survives JSON unchanged at every step', () => {
    const world = new World({ plan: testPlan({ replicas: 3, bakeMs: 3_000 }) });
    const run = drive(world);
    for (const d of run.decisions) expect(viaJson(d.state)).toEqual(d.state);
  });

  it('adopts an instance started by a step whose state was lost, and starts nothing twice', () => {
    const plan = testPlan({ replicas: 3 });
    const world = new World({ plan });
    const first = step(world, initialState(plan));
    expect(first.actions).toEqual([expect.objectContaining({ kind: 'start', slot: 'r1-0' })]);
    for (const a of first.actions) world.apply(a);
    world.advance(1_000);

    // The process died before persisting `first.state`: the next one starts from scratch.
    const resumed = step(world, viaJson(initialState(plan)));
    expect(resumed.events).toContainEqual(
      expect.objectContaining({ kind: 'instance-adopted', slot: 'r1-0', role: 'to' }),
    );
    expect(resumed.actions.filter((a) => a.kind === 'start')).toEqual([]);
    expect(resumed.state.nextSlot).toBe(1);
    expect(resumed.state.instances.map((i) => i.slot).sort()).toEqual([
      'prev-0',
      'prev-1',
      'prev-2',
      'r1-0',
    ]);
    for (const a of resumed.actions) world.apply(a);
    world.advance(1_000);

    const run = drive(world, {}, viaJson(resumed.state));
    expect(run.finish?.outcome).toBe('succeeded');
    expect(world.violations).toEqual([]);
    expect(world.reusedSlots).toEqual([]);
  });

  it('asks again for a start that was persisted but never made, under the same slot', () => {
    const plan = testPlan({ replicas: 2 });
    const world = new World({ plan });
    const first = step(world, initialState(plan));
    // Persisted, then the process died before acting.
    world.advance(1_000);
    const again = step(world, viaJson(first.state));
    expect(again.actions.filter((a) => a.kind === 'start')).toEqual(
      first.actions.filter((a) => a.kind === 'start'),
    );
  });

  it('counts a vanished instance as missing and replaces it under a new slot', () => {
    const plan = testPlan({ replicas: 2 });
    const world = new World({ plan });
    let state = initialState(plan);
    for (let n = 0; n < 2; n += 1) {
      const d = step(world, state);
      for (const a of d.actions) world.apply(a);
      state = viaJson(d.state);
      world.advance(1_000);
    }
    const gone = world.instances.findIndex((i) => i.slot === 'r1-0');
    world.instances.splice(gone, 1); // removed behind the controller's back
    const d = step(world, state);
    expect(d.events).toContainEqual(
      expect.objectContaining({ kind: 'instance-lost', slot: 'r1-0' }),
    );
    expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'start', slot: 'r1-1' }));
    for (const a of d.actions) world.apply(a);
    world.advance(1_000);
    const run = drive(world, {}, viaJson(d.state));
    expect(run.finish?.outcome).toBe('succeeded');
    expect(world.violations).toEqual([]);
  });

  it('retires leftovers of a third revision, after a drain', () => {
    const plan = testPlan({ replicas: 1 });
    const world = new World({ plan });
    const stray = world.instances[0];
    if (stray === undefined) throw new Error('no old instance');
    // A superseded rollout's revision, still routed.
    world.instances.push({
      ...stray,
      id: 'stray',
      slot: 'r0-4',
      revision: 'c'.repeat(40),
      routed: false,
    });
    const run = drive(world);
    expect(run.finish?.outcome).toBe('succeeded');
    expect(world.instances.map((i) => i.slot)).toEqual(['r1-0']);
    expect(run.decisions.flatMap((d) => d.actions)).toContainEqual(
      expect.objectContaining({ kind: 'stop', slot: 'r0-4', reason: 'replaced' }),
    );
    expect(world.violations).toEqual([]);
  });

  it('resumes mid-rollback from persisted state and still restores the old revision', () => {
    const plan = testPlan({ replicas: 3 });
    const world = new World({
      plan,
      script: (role, n) =>
        role === 'to' && n === 1 ? { kind: 'never' } : { kind: 'healthy', bootMs: 1_000 },
    });
    const part = drive(world, {
      onStep: (_s, d) => !d.events.some((e) => e.kind === 'failed'),
    });
    expect(part.state.revert).toEqual(expect.objectContaining({ cause: 'failure' }));
    world.advance(1_000);
    const rest = drive(world, {}, viaJson(part.state));
    expect(rest.finish).toMatchObject({ outcome: 'failed', restored: true });
    expect(world.of(OLD.sha).filter((i) => i.routed)).toHaveLength(3);
    expect(world.violations).toEqual([]);
  });
});
