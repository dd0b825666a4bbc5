/** Intents, the derived phase, supersede, and the shape of decisions. */
import { describe, expect, it } from 'vitest';
import {
  applyIntents,
  decide,
  describePhase,
  initialState,
  orderActions,
  phaseOf,
  supersede,
  type Action,
  type Intent,
  type Phase,
  type RolloutState,
} from '../../src/rollout/index.js';
import { testPlan } from './rollout-drive.js';
import { World } from './rollout-world.js';

const plan = testPlan({ replicas: 3, bakeMs: 10_000 });
const T = 1_000_000;
const running: RolloutState = { ...initialState(plan), startedAt: T, lastProgressAt: T };
const pause: Intent = { kind: 'pause' };
const resume: Intent = { kind: 'resume' };
const abort: Intent = { kind: 'abort' };

describe('applyIntents', () => {
  const cases: {
    name: string;
    state: RolloutState;
    intents: Intent[];
    expect: Partial<RolloutState>;
    applied: Intent['kind'] | null;
  }[] = [
    {
      name: 'pause',
      state: running,
      intents: [pause],
      expect: { pausedAt: T + 5_000 },
      applied: 'pause',
    },
    {
      name: 'pause when paused is ignored',
      state: { ...running, pausedAt: T },
      intents: [pause],
      expect: { pausedAt: T },
      applied: null,
    },
    {
      name: 'resume shifts the deadline and bake clocks by the pause',
      state: { ...running, pausedAt: T + 1_000, lastProgressAt: T, bakeStartedAt: T + 500 },
      intents: [resume],
      expect: { pausedAt: null, lastProgressAt: T + 4_000, bakeStartedAt: T + 4_500 },
      applied: 'resume',
    },
    {
      name: 'resume when running is ignored',
      state: running,
      intents: [resume],
      expect: { pausedAt: null },
      applied: null,
    },
    {
      name: 'of pause and resume, the last counts',
      state: running,
      intents: [pause, resume, pause],
      expect: { pausedAt: T + 5_000 },
      applied: 'pause',
    },
    {
      name: 'abort wins over everything else, and unpauses',
      state: { ...running, pausedAt: T },
      intents: [pause, abort, resume],
      expect: {
        revert: { cause: 'abort', since: T + 5_000 },
        pausedAt: null,
        lastProgressAt: T + 5_000,
      },
      applied: 'abort',
    },
    {
      name: 'abort while rolling back is ignored',
      state: { ...running, revert: { cause: 'failure', since: T } },
      intents: [abort],
      expect: { revert: { cause: 'failure', since: T } },
      applied: null,
    },
    {
      name: 'pause while rolling back is ignored (the way back must not stop half-way)',
      state: { ...running, revert: { cause: 'failure', since: T } },
      intents: [pause],
      expect: { pausedAt: null },
      applied: null,
    },
  ];

  it.each(cases)('$name', (c) => {
    const out = applyIntents(c.state, c.intents, T + 5_000);
    expect(out.state).toMatchObject(c.expect);
    const applied = out.events.find((e) => e.kind === 'intent-applied');
    expect(applied?.kind === 'intent-applied' ? applied.intent.kind : null).toBe(c.applied);
    expect(out.events).toHaveLength(c.intents.length);
    expect(out.actions).toEqual([]);
  });
});

describe('phaseOf', () => {
  const finished = (
    outcome: 'succeeded' | 'failed' | 'aborted' | 'superseded',
    restored: boolean,
  ) => ({
    ...running,
    finished: { outcome, at: T, restored, rollbackStall: null },
  });
  const cases: { name: string; state: RolloutState; phase: Phase; words: string }[] = [
    { name: 'pending', state: initialState(plan), phase: { kind: 'pending' }, words: 'pending' },
    {
      name: 'progressing',
      state: running,
      phase: { kind: 'progressing', step: 0, of: 3 },
      words: 'progressing (step 0 of 3)',
    },
    {
      name: 'paused',
      state: { ...running, pausedAt: T },
      phase: { kind: 'paused', step: 0, of: 3 },
      words: 'paused (step 0 of 3)',
    },
    {
      name: 'baking',
      state: { ...running, bakeStartedAt: T },
      phase: { kind: 'baking', until: T + 10_000 },
      words: 'baking',
    },
    {
      name: 'rolling back',
      state: { ...running, revert: { cause: 'failure', since: T } },
      phase: { kind: 'rolling-back', cause: 'failure', step: 0, of: 3 },
      words: 'rolling back (0 of 3 restored)',
    },
    {
      name: 'aborting',
      state: { ...running, revert: { cause: 'abort', since: T } },
      phase: { kind: 'rolling-back', cause: 'abort', step: 0, of: 3 },
      words: 'aborting (0 of 3 restored)',
    },
    {
      name: 'succeeded',
      state: finished('succeeded', false),
      phase: { kind: 'succeeded' },
      words: 'succeeded',
    },
    {
      name: 'rolled back',
      state: finished('failed', true),
      phase: { kind: 'rolled-back' },
      words: 'failed, rolled back',
    },
    {
      name: 'failed without rollback',
      state: {
        ...finished('failed', false),
        failure: {
          check: 'error-rate',
          at: T,
          during: 'baking',
          detail: '',
          errorRate: 1,
          requests: 50,
          maxErrorRate: 0.05,
        },
      },
      phase: { kind: 'failed', check: 'error-rate' },
      words: 'failed (error-rate)',
    },
    {
      name: 'aborted',
      state: finished('aborted', true),
      phase: { kind: 'aborted' },
      words: 'aborted',
    },
    {
      name: 'superseded',
      state: finished('superseded', false),
      phase: { kind: 'superseded' },
      words: 'superseded',
    },
  ];
  it.each(cases)('$name', (c) => {
    expect(phaseOf(plan, c.state)).toEqual(c.phase);
    expect(describePhase(c.phase)).toBe(c.words);
  });
});

describe('decisions', () => {
  it('a finished rollout only repeats its finish action, so a lost finish is applied again', () => {
    const world = new World({ plan });
    const done: RolloutState = {
      ...running,
      finished: { outcome: 'succeeded', at: T, restored: false, rollbackStall: null },
    };
    const d = decide({
      plan,
      state: done,
      observed: world.observe(),
      intents: [abort],
      now: T + 1,
    });
    expect(d).toEqual({
      state: done,
      actions: [{ kind: 'finish', outcome: 'succeeded', restored: false, failure: null }],
      events: [],
    });
  });

  it('supersede ends the rollout without stopping anything (the next one adopts what runs)', () => {
    const out = supersede(plan, running, T + 1);
    expect(out.state.finished).toMatchObject({ outcome: 'superseded' });
    expect(out.actions).toEqual([
      { kind: 'finish', outcome: 'superseded', restored: false, failure: null },
    ]);
    expect(phaseOf(plan, out.state)).toEqual({ kind: 'superseded' });
    expect(supersede(plan, out.state, T + 2).events).toEqual([]);
  });

  it('is deterministic: the same input gives the same decision', () => {
    const world = new World({ plan });
    const input = {
      plan,
      state: initialState(plan),
      observed: world.observe(),
      intents: [],
      now: T,
    };
    expect(decide(input)).toEqual(decide(JSON.parse(JSON.stringify(input)) as typeof input));
  });

  it('orders actions stops, route, unroute, starts, finish, merging routes and unroutes', () => {
    const start: Action = { kind: 'start', slot: 's', revision: 'r', image: 'i', host: 'h' };
    const stop: Action = { kind: 'stop', instanceId: 'x', slot: 'x', reason: 'replaced' };
    const finish: Action = { kind: 'finish', outcome: 'succeeded', restored: false, failure: null };
    const ordered = orderActions([
      finish,
      start,
      { kind: 'unroute', instanceIds: ['a'] },
      { kind: 'route', instanceIds: ['b'] },
      stop,
      { kind: 'unroute', instanceIds: ['c', 'a'] },
      stop,
    ]);
    expect(ordered).toEqual([
      stop,
      { kind: 'route', instanceIds: ['b'] },
      { kind: 'unroute', instanceIds: ['a', 'c'] },
      start,
      finish,
    ]);
  });
});
