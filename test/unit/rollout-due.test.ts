/** When the core next has something to decide on its own: a drain running out, the bake ending. */
import { describe, expect, it } from 'vitest';
import { initialState, nextDue, type TrackedInstance } from '../../src/rollout/index.js';
import { freshTally } from '../../src/rollout/index.js';
import { testPlan } from './rollout-drive.js';

const plan = testPlan({ replicas: 2, bakeMs: 5_000 });

function instance(retire: TrackedInstance['retire']): TrackedInstance {
  return {
    slot: 'prev-0',
    role: 'from',
    revision: 'a'.repeat(40),
    host: 'h1',
    request: null,
    id: 'c1',
    seenAt: 0,
    runtime: 'running',
    exitCode: null,
    routed: false,
    everRouted: true,
    health: freshTally(0, 'healthy'),
    retire,
  };
}

const retiring = (drainFrom: number | null, stopAt: number | null) =>
  instance({ reason: 'replaced', since: 0, drainFrom, stopAt });

describe('nextDue', () => {
  it.each([
    { name: 'nothing under way', instances: [], bakeStartedAt: null, due: null },
    {
      name: 'a drain running',
      instances: [retiring(1_000, null)],
      bakeStartedAt: null,
      due: 3_000,
    },
    {
      name: 'unrouted, not seen so yet',
      instances: [retiring(null, null)],
      bakeStartedAt: null,
      due: null,
    },
    {
      name: 'drained and stopping',
      instances: [retiring(1_000, 3_000)],
      bakeStartedAt: null,
      due: null,
    },
    {
      name: 'the earliest of two drains',
      instances: [retiring(4_000, null), retiring(1_500, null)],
      bakeStartedAt: null,
      due: 3_500,
    },
    { name: 'the bake', instances: [], bakeStartedAt: 10_000, due: 15_000 },
    {
      name: 'a drain before the bake ends',
      instances: [retiring(9_000, null)],
      bakeStartedAt: 10_000,
      due: 11_000,
    },
  ])('$name → $due', ({ instances, bakeStartedAt, due }) => {
    const state = { ...initialState(plan), startedAt: 0, instances, bakeStartedAt };
    expect(nextDue(plan, state)).toBe(due);
  });

  it('has nothing due while paused or finished', () => {
    const base = { ...initialState(plan), instances: [retiring(1_000, null)] };
    expect(nextDue(plan, { ...base, pausedAt: 2_000 })).toBeNull();
    const finished = {
      outcome: 'succeeded',
      at: 2_000,
      restored: false,
      rollbackStall: null,
    } as const;
    expect(nextDue(plan, { ...base, finished })).toBeNull();
  });
});
