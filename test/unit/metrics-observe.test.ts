import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/bus.js';
import { healthStatusOf, Metrics, type MetricLookups } from '../../src/metrics/metrics.js';
import type { HealEvent } from '../../src/reconcile/events.js';
import type { Evidence, RolloutEvent } from '../../src/rollout/index.js';
import type { EnvStatus, InstanceStatus } from '../../src/store/records.js';

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

function rollout(kind: string, text: string, rolloutId = 'r-1-1', data?: unknown): StoredEvent {
  return {
    id: '1-0',
    type: 'rollout',
    at: 0,
    rolloutId,
    app: 'web',
    env: 'production',
    kind,
    text,
    ...(data === undefined ? {} : { data }),
  };
}
function env(kind: string, text: string, data?: HealEvent): StoredEvent {
  return {
    id: '1-0',
    type: 'env',
    at: 0,
    app: 'web',
    env: 'production',
    kind,
    text,
    ...(data ? { data } : {}),
  };
}
function evidence(slot: string, status: Evidence['status']): RolloutEvent {
  return {
    kind: 'instance-health',
    at: 0,
    evidence: { at: 0, slot, instanceId: null, role: 'to', status, detail: null, probes: [] },
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

  // Typed lines are read from `data`; lines written by older versions, from their text.
  const verdicts: [string, StoredEvent[], Record<string, number>][] = [
    [
      'typed: the status from data.evidence, whatever the text says',
      [
        rollout('instance-health', 'prose that says nothing', 'r-1-1', evidence('s-0', 'healthy')),
        rollout('instance-health', '', 'r-1-1', evidence('s-1', 'unhealthy')),
        rollout('instance-health', 'x', 'r-1-1', evidence('s-2', 'healthy')),
      ],
      { healthy: 2, unhealthy: 1 },
    ],
    [
      'older versions: the status word of the text',
      [
        rollout('instance-health', 'r-1-1-0 healthy'),
        rollout('instance-health', 'r-1-1-1 unhealthy: HTTP 500'),
        rollout('instance-health', 'r-1-1-2 healthy'),
      ],
      { healthy: 2, unhealthy: 1 },
    ],
    [
      'data of another shape: the text',
      [rollout('instance-health', 'r-1-1-0 starting', 'r-1-1', { kind: 'instance-health' })],
      { starting: 1 },
    ],
  ];
  for (const [name, events, want] of verdicts) {
    it(`health verdicts, ${name}`, async () => {
      const m = new Metrics();
      for (const e of events) await m.observe(e, lookups);
      const text = await m.registry.metrics();
      for (const [status, n] of Object.entries(want)) {
        expect(text).toContain(
          `gantry_instance_health_total{app="web",env="production",status="${status}"} ${n}`,
        );
      }
      expect(text.match(/^gantry_instance_health_total\{/gm)).toHaveLength(
        Object.keys(want).length,
      );
    });
  }

  const outcomes: [string, StoredEvent, string][] = [
    [
      'typed: from data.outcome, before the record',
      rollout('outcome', 'whatever', 'r-1-1', {
        kind: 'outcome',
        at: 0,
        outcome: 'aborted',
        reason: 'aborted by bob',
      }),
      'kind="auto-rollback",outcome="aborted"',
    ],
    [
      'typed, no record: from data.outcome, not the text',
      rollout('outcome', 'succeeded: x', 'r-9-9', {
        kind: 'outcome',
        at: 0,
        outcome: 'superseded',
        reason: 'superseded by r-9-10',
      }),
      'kind="unknown",outcome="superseded"',
    ],
    [
      'older versions: from the record',
      rollout('outcome', 'failed: x'),
      'kind="auto-rollback",outcome="succeeded"',
    ],
    [
      'older versions without a record: from the text',
      rollout('outcome', 'failed: unhealthy', 'r-2-2'),
      'kind="unknown",outcome="failed"',
    ],
  ];
  for (const [name, e, labels] of outcomes) {
    it(`rollout outcomes, ${name}`, async () => {
      const m = new Metrics();
      await m.observe(e, lookups);
      expect(await m.registry.metrics()).toContain(
        `gantry_rollouts_total{app="web",env="production",${labels}} 1`,
      );
    });
  }

  it("counts the reconciler's repairs by action, and drift; other env events are not", async () => {
    const m = new Metrics();
    const replaced: HealEvent = {
      kind: 'replaced',
      at: 0,
      slot: 'r-1-1-0',
      instanceId: 'c1',
      replacement: 'r-1-1-3',
      cause: 'exited',
      detail: 'exited 137',
    };
    const routed: HealEvent = { kind: 'routed', at: 0, slots: ['r-1-1-0'] };
    for (const e of [
      env('self-heal', 'self-heal: replaced', replaced),
      env('self-heal', 'self-heal: replaced', { ...replaced, slot: 'r-1-1-1' }),
      env('self-heal', 'self-heal: routed', routed),
      env('self-heal', 'self-heal: something'),
      env('drift', 'drift (self-heal off): 1 instance exited', {
        kind: 'drift',
        at: 0,
        detail: '1 instance exited',
      }),
      env('orphaned', 'orphaned: gone', { kind: 'orphaned', at: 0, why: 'gone' }),
      env('locked', 'locked by carol'),
    ]) {
      await m.observe(e, lookups);
    }
    const text = await m.registry.metrics();
    expect(text).toContain(
      'gantry_self_heal_total{app="web",env="production",action="replaced"} 2',
    );
    expect(text).toContain('gantry_self_heal_total{app="web",env="production",action="routed"} 1');
    // A self-heal line without data is still a repair, of an action not known.
    expect(text).toContain('gantry_self_heal_total{app="web",env="production",action="unknown"} 1');
    expect(text).toContain('gantry_drift_events_total{app="web",env="production"} 1');
    expect(text).toContain('gantry_events_total{type="env"} 7');
  });

  it('reads queue depths when scraped', async () => {
    const m = new Metrics({ queueCounts: async () => ({ builds: { waiting: 3, active: 1 } }) });
    const text = await m.registry.metrics();
    expect(text).toContain('gantry_queue_jobs{queue="builds",state="waiting"} 3');
    expect(text).toContain('gantry_queue_jobs{queue="builds",state="active"} 1');
  });
});

describe('environment gauges, read from the status records at scrape', () => {
  function instance(slot: string, verdict: InstanceStatus['verdict']): InstanceStatus {
    return {
      slot,
      id: slot,
      host: 'local',
      revision: 'abc',
      state: 'running',
      verdict,
      routed: true,
    };
  }
  function status(over: Partial<EnvStatus>): EnvStatus {
    return {
      app: 'web',
      env: 'production',
      sync: { status: 'synced', reasons: [] },
      health: { status: 'healthy', detail: '' },
      desired: null,
      instances: [],
      route: null,
      selfHeal: true,
      orphaned: null,
      observedAt: '2026-01-01T00:00:00.000Z',
      ...over,
    };
  }

  it('health and sync: 1 for the current word, 0 for the others; instances by verdict; orphaned', async () => {
    let reads = 0;
    const m = new Metrics({
      envStatuses: async () => {
        reads++;
        return [
          status({
            health: { status: 'degraded', detail: '1 of 2 unhealthy' },
            sync: { status: 'out-of-sync', reasons: [{ reason: 'drift', detail: 'x' }] },
            instances: [
              instance('a', 'healthy'),
              instance('b', 'unhealthy'),
              instance('c', 'stray'),
            ],
          }),
          status({ app: 'api', env: 'staging', orphaned: { why: 'left the config' } }),
        ];
      },
    });
    const text = await m.registry.metrics();
    // One read of the records serves every gauge of a scrape.
    expect(reads).toBe(1);
    const want: [string, number][] = [
      ['gantry_environment_health{app="web",env="production",status="degraded"}', 1],
      ['gantry_environment_health{app="web",env="production",status="healthy"}', 0],
      ['gantry_environment_health{app="web",env="production",status="unknown"}', 0],
      ['gantry_environment_health{app="api",env="staging",status="healthy"}', 1],
      ['gantry_environment_sync{app="web",env="production",status="out-of-sync"}', 1],
      ['gantry_environment_sync{app="web",env="production",status="synced"}', 0],
      ['gantry_environment_sync{app="api",env="staging",status="synced"}', 1],
      ['gantry_environment_instances{app="web",env="production",verdict="healthy"}', 1],
      ['gantry_environment_instances{app="web",env="production",verdict="unhealthy"}', 1],
      ['gantry_environment_instances{app="web",env="production",verdict="stray"}', 1],
      ['gantry_environment_instances{app="web",env="production",verdict="starting"}', 0],
      ['gantry_environment_orphaned{app="web",env="production"}', 0],
      ['gantry_environment_orphaned{app="api",env="staging"}', 1],
    ];
    for (const [series, value] of want) expect(text).toContain(`${series} ${value}\n`);
    expect(text.match(/^gantry_environment_health\{/gm)).toHaveLength(10);

    await m.registry.metrics();
    expect(reads).toBe(2);
  });

  it('an environment whose record is gone drops out at the next scrape', async () => {
    let all = [status({})];
    const m = new Metrics({ envStatuses: async () => all });
    expect(await m.registry.metrics()).toContain('gantry_environment_orphaned{app="web"');
    all = [];
    expect(await m.registry.metrics()).not.toContain('gantry_environment_orphaned{app="web"');
  });
});

describe('healthStatusOf (lines written by older versions)', () => {
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
