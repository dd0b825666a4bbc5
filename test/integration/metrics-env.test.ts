/**
 * The reconciler's series on a real controller's `/metrics`: counters fed from `env` events on the
 * real Redis stream, gauges read from the status records at scrape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healEventKind, healEventText, type HealEvent } from '../../src/reconcile/events.js';
import type { EnvStatus } from '../../src/store/records.js';
import { startFixture, waitFor, type Fixture } from '../support/controller-fixture.js';

describe('/metrics: environment status gauges and self-heal counters', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ seed: false });
  });
  afterAll(async () => {
    await f?.close();
  });

  const scrape = async () => (await fetch(`${f.controller.url}/metrics`)).text();

  it('shows what the reconciler wrote and did', async () => {
    const { rollouts } = f.controller;
    // The environment is known once it has a current revision, as after its first rollout.
    await rollouts.updateEnv('hello', 'production', {
      current: {
        sha: 'a'.repeat(40),
        image: 'img',
        rolloutId: 'r-1',
        since: '2026-01-01T00:00:00Z',
      },
    });
    const status: EnvStatus = {
      app: 'hello',
      env: 'production',
      sync: { status: 'out-of-sync', reasons: [{ reason: 'drift', detail: '1 instance exited' }] },
      health: { status: 'degraded', detail: '1 of 2 instances unhealthy' },
      desired: { sha: 'a'.repeat(40), image: 'img', replicas: 2, rolloutId: 'r-1' },
      instances: [
        {
          slot: 'r-1-0',
          id: 'c0',
          host: 'local',
          revision: 'a',
          state: 'running',
          verdict: 'healthy',
          routed: true,
        },
        {
          slot: 'r-1-1',
          id: 'c1',
          host: 'local',
          revision: 'a',
          state: 'exited',
          verdict: 'unhealthy',
          routed: false,
        },
      ],
      route: null,
      selfHeal: true,
      orphaned: null,
      observedAt: new Date().toISOString(),
    };
    await rollouts.putStatus(status);
    const heal: HealEvent = {
      kind: 'replaced',
      at: Date.now(),
      slot: 'r-1-1',
      instanceId: 'c1',
      replacement: 'r-1-2',
      cause: 'exited',
      detail: 'exited with code 137',
    };
    const drift: HealEvent = { kind: 'drift', at: Date.now(), detail: '1 instance exited' };
    await rollouts.appendEnvEvents(
      'hello',
      'production',
      [heal, drift].map((e) => ({
        at: e.at,
        kind: healEventKind(e),
        text: healEventText(e),
        data: e,
      })),
    );

    const text = await waitFor('the env events counted', async () => {
      const t = await scrape();
      return t.includes('gantry_drift_events_total{app="hello",env="production"} 1')
        ? t
        : undefined;
    });
    const want = [
      'gantry_self_heal_total{app="hello",env="production",action="replaced"} 1',
      'gantry_drift_events_total{app="hello",env="production"} 1',
      'gantry_environment_health{app="hello",env="production",status="degraded"} 1',
      'gantry_environment_health{app="hello",env="production",status="healthy"} 0',
      'gantry_environment_sync{app="hello",env="production",status="out-of-sync"} 1',
      'gantry_environment_sync{app="hello",env="production",status="synced"} 0',
      'gantry_environment_instances{app="hello",env="production",verdict="healthy"} 1',
      'gantry_environment_instances{app="hello",env="production",verdict="unhealthy"} 1',
      'gantry_environment_instances{app="hello",env="production",verdict="stray"} 0',
      'gantry_environment_orphaned{app="hello",env="production"} 0',
    ];
    for (const line of want) expect(text).toContain(`${line}\n`);

    // The gauges follow the record at the next scrape; a forgotten environment drops out.
    await rollouts.putStatus({
      ...status,
      health: { status: 'healthy', detail: '' },
      orphaned: { why: 'production left gantry.yaml' },
    });
    const next = await scrape();
    expect(next).toContain(
      'gantry_environment_health{app="hello",env="production",status="healthy"} 1\n',
    );
    expect(next).toContain('gantry_environment_orphaned{app="hello",env="production"} 1\n');
    await rollouts.forgetEnv('hello', 'production');
    expect(await scrape()).not.toContain('gantry_environment_health{app="hello"');
  });
});
