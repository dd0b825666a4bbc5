/**
 * The reconciler per process type: each type is healed to its own replica count, workers are
 * never routed and are healthy while running, slots stay unique across types, and the status
 * counts desired and ready per type.
 */
import { describe, expect, it } from 'vitest';
import type { HealInstance } from '../../src/reconcile/heal.js';
import { healProcesses, type SharedHealPlan } from '../../src/reconcile/heal-processes.js';
import { statusOf } from '../../src/reconcile/status.js';
import type { HealthRules, ProcessPlan } from '../../src/rollout/index.js';

const SHA = 'a'.repeat(40);
const IMAGE = `reg/app@sha256:${'1'.repeat(64)}`;
const NOW = 1_000_000;
const RULES: HealthRules = {
  check: { kind: 'http', path: '/healthz', expect: 200 },
  intervalMs: 1000,
  timeoutMs: 1000,
  startPeriodMs: 2000,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  maxRestarts: 2,
};

const SHARED: SharedHealPlan = {
  app: 'app',
  env: 'production',
  rolloutId: 'r-1',
  revision: { sha: SHA, image: IMAGE, release: 3 },
  maxSurge: 1,
  hosts: ['local'],
  strayGraceMs: 10_000,
  selfHeal: true,
  knownRollouts: ['r-1'],
};

function processes(web: number, worker: number): ProcessPlan[] {
  return [
    { name: 'web', replicas: web, routed: true, health: RULES },
    {
      name: 'worker',
      replicas: worker,
      routed: false,
      health: { ...RULES, check: { kind: 'running' } },
    },
  ];
}

function inst(n: number, process: string, over: Partial<HealInstance> = {}): HealInstance {
  return {
    id: `c${n}`,
    slot: `r-1-${n}`,
    revision: SHA,
    release: 3,
    ...(process === 'web' ? {} : { process }),
    image: IMAGE,
    rolloutId: 'r-1',
    host: 'local',
    state: 'running',
    restartCount: 0,
    exitCode: null,
    startedAt: NOW - 60_000,
    routed: process === 'web',
    probes: [],
    ...over,
  };
}

describe('healing per process type', () => {
  it('replaces a missing worker with a worker, on a slot no other type uses', () => {
    const seen = [inst(0, 'web'), inst(1, 'web')];
    const d = healProcesses(SHARED, processes(2, 1), {}, seen, NOW);
    const starts = d.actions.filter((a) => a.kind === 'start');
    expect(starts).toEqual([
      expect.objectContaining({ kind: 'start', process: 'worker', release: 3, slot: 'r-1-2' }),
    ]);
    expect(d.processes).toEqual([
      { name: 'web', desired: 2, ready: 2, routed: true },
      { name: 'worker', desired: 1, ready: 0, routed: false },
    ]);
  });

  it('never routes a worker; one that has kept running its start period is ready', () => {
    const seen = [inst(0, 'web'), inst(1, 'worker')];
    const d = healProcesses(SHARED, processes(1, 1), {}, seen, NOW);
    expect(d.actions).toEqual([]);
    expect(d.processes.find((p) => p.name === 'worker')?.ready).toBe(1);
    expect(d.drift).toEqual([]);
  });

  it('removes the instances of a process type the release no longer has', () => {
    const seen = [inst(0, 'web'), inst(1, 'cron')];
    const d = healProcesses(SHARED, processes(1, 0), {}, seen, NOW);
    expect(d.actions).toEqual([expect.objectContaining({ kind: 'stop', instanceId: 'c1' })]);
  });

  it('gives each type its own starts in one pass, numbering slots across types', () => {
    const d = healProcesses(SHARED, processes(2, 2), {}, [], NOW);
    const starts = d.actions.flatMap((a) => (a.kind === 'start' ? [a] : []));
    expect(starts.map((s) => s.slot)).toEqual(['r-1-0', 'r-1-1', 'r-1-2', 'r-1-3']);
    expect(starts.map((s) => s.process ?? 'web')).toEqual(['web', 'web', 'worker', 'worker']);
    // The next pass sees them pending, and starts nothing more.
    const again = healProcesses(SHARED, processes(2, 2), d.states, [], NOW + 100);
    expect(
      again.actions
        .filter((a) => a.kind === 'start')
        .map((a) => (a.kind === 'start' ? a.slot : '')),
    ).toEqual(['r-1-0', 'r-1-1', 'r-1-2', 'r-1-3']);
  });

  it('the status counts ready workers without a route, per process type', () => {
    const seen = [inst(0, 'web'), inst(1, 'worker')];
    const d = healProcesses(SHARED, processes(1, 1), {}, seen, NOW);
    const status = statusOf({
      app: 'app',
      env: 'production',
      desired: { sha: SHA, image: IMAGE, replicas: 2, rolloutId: 'r-1' },
      judged: d.judged,
      processes: d.processes,
      pendingStarts: 0,
      drift: d.drift,
      route: null,
      selfHeal: true,
      orphaned: null,
      rolloutInFlight: null,
      head: null,
      pinned: null,
      locked: null,
      headFailed: false,
      unreachable: null,
      now: NOW,
    });
    expect(status.health).toEqual({ status: 'healthy', detail: '2/2 serving' });
    expect(status.processes).toEqual(d.processes);
  });
});
