import { describe, expect, it } from 'vitest';
import {
  freshTally,
  tallyHealth,
  type HealthTally,
  type Probe,
  type RuntimeState,
} from '../../src/rollout/index.js';
import { testPlan } from './rollout-drive.js';

// healthyThreshold 2, unhealthyThreshold 3, startPeriod 10 s, maxRestarts 2.
const rules = testPlan({ startPeriodMs: 10_000 }).health;
const STARTED = 100_000;

const ok = (s: number): Probe => ({ at: STARTED + s * 1_000, ok: true, detail: '200' });
const bad = (s: number): Probe => ({ at: STARTED + s * 1_000, ok: false, detail: '503' });

interface View {
  readonly state?: RuntimeState;
  readonly restartCount?: number;
  readonly exitCode?: number | null;
}

function tally(probes: Probe[], from: HealthTally = freshTally(0), view: View = {}): HealthTally {
  return tallyHealth(
    from,
    {
      state: view.state ?? 'running',
      restartCount: view.restartCount ?? 0,
      exitCode: view.exitCode ?? null,
      startedAt: STARTED,
      probes,
    },
    rules,
  );
}

const healthy = tally([ok(1), ok(2)]);

describe('tallyHealth', () => {
  const cases: {
    name: string;
    probes: Probe[];
    from?: HealthTally;
    view?: View;
    status: HealthTally['status'];
    cause?: HealthTally['cause'];
    detail?: string;
  }[] = [
    { name: 'no probes yet: starting', probes: [], status: 'starting' },
    { name: 'one pass short of the threshold: starting', probes: [ok(1)], status: 'starting' },
    {
      name: 'healthyThreshold consecutive passes: healthy',
      probes: [ok(1), ok(2)],
      status: 'healthy',
    },
    {
      name: 'passes not consecutive: starting',
      probes: [ok(1), bad(2), ok(3)],
      status: 'starting',
    },
    {
      name: 'failures inside the start period do not count',
      probes: [bad(1), bad(2), bad(3), bad(4), bad(9)],
      status: 'starting',
    },
    {
      name: 'unhealthyThreshold failures after the start period: unhealthy',
      probes: [bad(10), bad(11), bad(12)],
      status: 'unhealthy',
      cause: 'probes',
      detail: '503',
    },
    {
      name: 'a pass resets the failure count',
      probes: [bad(10), bad(11), ok(12), bad(13), bad(14)],
      status: 'starting',
    },
    {
      name: 'once healthy, failures count even inside the start period',
      probes: [ok(1), ok(2), bad(3), bad(4), bad(5)],
      status: 'unhealthy',
    },
    {
      name: 'healthy stays healthy below the failure threshold',
      probes: [bad(20), bad(21)],
      from: healthy,
      status: 'healthy',
    },
    {
      name: 'unhealthy recovers after healthyThreshold passes',
      probes: [ok(13), ok(14)],
      from: tally([bad(10), bad(11), bad(12)]),
      status: 'healthy',
    },
    {
      name: 'an exited process is unhealthy at once, whatever its last probe',
      probes: [ok(1), ok(2)],
      view: { state: 'exited', exitCode: 137 },
      status: 'unhealthy',
      cause: 'exited',
      detail: 'exited with code 137',
    },
    {
      name: 'a dead container is unhealthy at once',
      probes: [],
      view: { state: 'dead', exitCode: null },
      status: 'unhealthy',
      cause: 'exited',
    },
    {
      name: 'restarting again and again is unhealthy at once',
      probes: [ok(1), ok(2)],
      view: { restartCount: 2 },
      status: 'unhealthy',
      cause: 'crash-loop',
      detail: 'restarted 2 times',
    },
    {
      name: 'one restart is tolerated',
      probes: [ok(1), ok(2)],
      view: { restartCount: 1 },
      status: 'healthy',
    },
    {
      name: 'restarts before the rollout met the instance are not held against it',
      probes: [ok(1), ok(2)],
      from: freshTally(7),
      view: { restartCount: 8 },
      status: 'healthy',
    },
  ];

  it.each(cases)('$name', (c) => {
    const t = tally(c.probes, c.from, c.view);
    expect(t.status).toBe(c.status);
    if (c.cause !== undefined) expect(t.cause).toBe(c.cause);
    if (c.detail !== undefined) expect(t.detail).toBe(c.detail);
  });

  it('counts each result once, however often the prober repeats it', () => {
    const once = tally([bad(10), bad(11)]);
    const again = tally([bad(10), bad(11)], once);
    expect(again).toEqual(once);
    expect(tally([bad(10), bad(11), bad(12)], once).status).toBe('unhealthy');
  });

  it('orders results by time, whatever order they arrive in', () => {
    expect(tally([ok(2), bad(11), ok(1)]).status).toBe(tally([ok(1), ok(2), bad(11)]).status);
    expect(tally([ok(12), bad(10), bad(11)]).fails).toBe(0);
  });

  it('keeps a bounded tail of results as evidence', () => {
    const many = Array.from({ length: 40 }, (_, s) => bad(s + 10));
    const t = tally(many);
    expect(t.recent.length).toBeLessThanOrEqual(10);
    expect(t.recent[t.recent.length - 1]).toEqual(bad(49));
  });
});
