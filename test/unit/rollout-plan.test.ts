import { describe, expect, it } from 'vitest';
import { planRollout, slotName, slotNumber } from '../../src/rollout/index.js';
import { NEW, OLD, testPlan } from './rollout-drive.js';

describe('planRollout', () => {
  it('takes sizes, thresholds and timings from the app spec', () => {
    const plan = testPlan({ replicas: 4, maxSurge: 2, maxUnavailable: 1, bakeMs: 7_000 });
    expect(plan).toMatchObject({
      rolloutId: 'r1',
      app: 'hello',
      env: 'production',
      kind: 'deploy',
      from: OLD,
      to: NEW,
      replicas: 4,
      maxSurge: 2,
      maxUnavailable: 1,
      bakeMs: 7_000,
      progressDeadlineMs: 30_000,
      drainMs: 2_000,
      autoRollback: true,
      hosts: ['h1', 'h2'],
      health: { intervalMs: 1_000, healthyThreshold: 2, unhealthyThreshold: 3, maxRestarts: 2 },
    });
  });

  it('is plain JSON', () => {
    const plan = testPlan();
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  const kinds = [
    {
      name: 'a first deploy has no old revision',
      knobs: { firstDeploy: true },
      from: null,
      autoRollback: true,
    },
    {
      name: 'an auto-rollback never rolls itself back (it would ping-pong)',
      knobs: { extra: { kind: 'auto-rollback' as const } },
      from: OLD,
      autoRollback: false,
    },
    {
      name: 'a manual rollback follows the spec',
      knobs: { extra: { kind: 'rollback' as const } },
      from: OLD,
      autoRollback: true,
    },
    {
      name: 'autoRollback off in the spec',
      knobs: { autoRollback: false },
      from: OLD,
      autoRollback: false,
    },
  ];
  it.each(kinds)('$name', ({ knobs, from, autoRollback }) => {
    const plan = testPlan(knobs);
    expect(plan.from).toEqual(from);
    expect(plan.autoRollback).toBe(autoRollback);
  });

  const invalid = [
    { name: 'no hosts', knobs: { hosts: [] }, message: /at least one host/ },
    {
      name: 'neither surge nor unavailability',
      knobs: { maxSurge: 0, maxUnavailable: 0 },
      message: /both be 0/,
    },
    { name: 'no rollout id', knobs: { extra: { rolloutId: '' } }, message: /needs an id/ },
  ];
  it.each(invalid)('rejects $name', ({ knobs, message }) => {
    expect(() => testPlan(knobs)).toThrow(message);
  });

  it('copies the hosts, so the caller cannot change the plan afterwards', () => {
    const hosts = ['a'];
    const plan = planRollout({ ...baseInput(), hosts });
    hosts.push('b');
    expect(plan.hosts).toEqual(['a']);
  });
});

describe('slots', () => {
  const plan = testPlan();
  const cases = [
    { slot: 'r1-0', n: 0 },
    { slot: 'r1-12', n: 12 },
    { slot: 'r10-1', n: null },
    { slot: 'r1-01', n: null },
    { slot: 'r1-x', n: null },
    { slot: 'r1-', n: null },
    { slot: 'prev-3', n: null },
  ];
  it.each(cases)('$slot is number $n of rollout r1', ({ slot, n }) => {
    expect(slotNumber(plan, slot)).toBe(n);
  });

  it('names and reads back the same slot', () => {
    for (const n of [0, 1, 7, 123]) expect(slotNumber(plan, slotName(plan, n))).toBe(n);
  });
});

function baseInput() {
  const plan = testPlan();
  return {
    rolloutId: plan.rolloutId,
    env: plan.env,
    from: OLD,
    to: NEW,
    spec: {
      app: 'hello',
      build: { context: '.', dockerfile: 'Dockerfile', target: undefined, args: {} },
      run: {
        port: 8080,
        replicas: 1,
        env: {},
        secrets: [],
        resources: { cpu: undefined, memoryBytes: undefined },
      },
      health: {
        check: { kind: 'tcp' as const },
        intervalMs: 1_000,
        timeoutMs: 500,
        startPeriodMs: 0,
        healthyThreshold: 1,
        unhealthyThreshold: 1,
      },
      rollout: {
        maxSurge: 1,
        maxUnavailable: 0,
        progressDeadlineMs: 1_000,
        bakeMs: 0,
        autoRollback: true,
      },
      selfHeal: true,
      environments: {},
      overrides: {},
    },
  };
}
