import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/bus.js';
import { healthStatusOf, Metrics, type MetricLookups } from '../../src/metrics/metrics.js';

const lookups: MetricLookups = {
  build: async (id) =>
    id === 'b-1'
      ? { startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:12.000Z' }
      : undefined,
  rollout: async (id) =>
    id === 'r-1-1'
      ? {
          kind: 'auto-rollback',
          outcome: 'succeeded',
          createdAt: '2026-01-01T00:00:00.000Z',
          finishedAt: '2026-01-01T00:00:30.000Z',
        }
      : undefined,
};

function rollout(kind: string, text: string, rolloutId = 'r-1-1'): StoredEvent {
  return {
    id: '1-0',
    type: 'rollout',
    at: 0,
    rolloutId,
    app: 'web',
    env: 'production',
    kind,
    text,
  };
}
function build(status: string, buildId = 'b-1'): StoredEvent {
  return { id: '1-0', type: 'build', at: 0, buildId, app: 'web', sha: 'a', status, text: '' };
}

describe('Metrics.observe', () => {
  it('counts finished builds by outcome, with their duration; running builds are not outcomes', async () => {
    const m = new Metrics();
    for (const e of [
      build('queued'),
      build('running'),
      build('succeeded'),
      build('failed', 'b-2'),
    ]) {
      await m.observe(e, lookups);
    }
    const text = await m.registry.metrics();
    expect(text).toContain('gantry_builds_total{app="web",outcome="succeeded"} 1');
    expect(text).toContain('gantry_builds_total{app="web",outcome="failed"} 1');
    expect(text).not.toContain('outcome="running"');
    expect(text).toContain('gantry_build_duration_seconds_sum{outcome="succeeded"} 12');
    // b-2 is unknown to the lookups: counted, but no duration to observe.
    expect(text).not.toContain('gantry_build_duration_seconds_count{outcome="failed"}');
    expect(text).toContain('gantry_events_total{type="build"} 4');
  });

  it('counts rollouts by kind and outcome from their closing event, with the duration', async () => {
    const m = new Metrics();
    await m.observe(rollout('created', 'deploy a → b'), lookups);
    await m.observe(rollout('outcome', 'succeeded: 2 × b serving'), lookups);
    await m.observe(rollout('outcome', 'failed: unhealthy', 'r-2-2'), lookups);
    const text = await m.registry.metrics();
    expect(text).toContain(
      'gantry_rollouts_total{app="web",env="production",kind="auto-rollback",outcome="succeeded"} 1',
    );
    // Without its record, the outcome comes from the event's text.
    expect(text).toContain(
      'gantry_rollouts_total{app="web",env="production",kind="unknown",outcome="failed"} 1',
    );
    expect(text).toContain(
      'gantry_rollout_duration_seconds_sum{kind="auto-rollback",outcome="succeeded"} 30',
    );
  });

  it('counts health verdicts by status', async () => {
    const m = new Metrics();
    await m.observe(rollout('instance-health', 'r-1-1-0 healthy'), lookups);
    await m.observe(rollout('instance-health', 'r-1-1-1 unhealthy: HTTP 500'), lookups);
    await m.observe(rollout('instance-health', 'r-1-1-2 healthy'), lookups);
    const text = await m.registry.metrics();
    expect(text).toContain(
      'gantry_instance_health_total{app="web",env="production",status="healthy"} 2',
    );
    expect(text).toContain(
      'gantry_instance_health_total{app="web",env="production",status="unhealthy"} 1',
    );
  });

  it('reads queue depths when scraped', async () => {
    const m = new Metrics(async () => ({ builds: { waiting: 3, active: 1 } }));
    const text = await m.registry.metrics();
    expect(text).toContain('gantry_queue_jobs{queue="builds",state="waiting"} 3');
    expect(text).toContain('gantry_queue_jobs{queue="builds",state="active"} 1');
  });
});

describe('healthStatusOf', () => {
  const cases: [string, string | undefined][] = [
    ['slot-0 healthy', 'healthy'],
    ['slot-0 unhealthy: HTTP 500 from /healthz', 'unhealthy'],
    ['slot-0 starting', 'starting'],
    ['', undefined],
    ['slot-0 Weird!', undefined],
  ];
  for (const [text, want] of cases)
    it(JSON.stringify(text), () => expect(healthStatusOf(text)).toBe(want));
});
