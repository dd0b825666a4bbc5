/** Which instances the prober probes, and how: by their process type's health rules. */
import { describe, expect, it } from 'vitest';
import { schedulesOf } from '../../src/deploy/probe-set.js';
import type { HealthRules } from '../../src/rollout/index.js';
import type { Instance } from '../../src/runtime/runtime.js';

const RULES: HealthRules = {
  check: { kind: 'http', path: '/healthz', expect: 200 },
  intervalMs: 1000,
  timeoutMs: 500,
  startPeriodMs: 0,
  healthyThreshold: 1,
  unhealthyThreshold: 1,
  maxRestarts: 2,
};

const instance = (process?: string): Instance => ({
  id: 'c1',
  name: 'n',
  host: 'local',
  app: 'a',
  env: 'e',
  revision: 'r',
  rolloutId: 'r1',
  slot: 'r1-0',
  image: 'i',
  state: 'running',
  restartCount: 0,
  ...(process === undefined ? {} : { process }),
});

describe('schedulesOf', () => {
  const scheduleOf = schedulesOf([
    { name: 'web', health: RULES },
    { name: 'worker', health: { ...RULES, check: { kind: 'running' } } },
    { name: 'jobs', health: { ...RULES, check: { kind: 'exec', command: ['ok'] } } },
  ]);

  it.each([
    { name: 'an unlabelled instance is web', process: undefined, want: 'http' },
    { name: 'web', process: 'web', want: 'http' },
    { name: 'a worker judged by running is not probed', process: 'worker', want: undefined },
    { name: 'a worker with an exec check', process: 'jobs', want: 'exec' },
    { name: 'a process the plan does not know (leaving)', process: 'cron', want: undefined },
  ])('$name', ({ process, want }) => {
    expect(scheduleOf(instance(process))?.check.kind).toBe(want);
  });
});
