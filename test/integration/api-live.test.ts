import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/bus.js';
import {
  appName,
  closeWithInstances,
  finishedRollout,
  pushBuilt,
  startAppFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { openSse, type SseConnection } from '../support/sse-client.js';

/** Frames of `sse` until the rollout's closing event (`outcome`), as events. */
async function untilOutcome(sse: SseConnection): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (;;) {
    const [f] = await sse.take(1);
    const e = JSON.parse(f!.data!) as StoredEvent;
    expect(f!.id).toBe(e.id);
    out.push(e);
    if (e.type === 'rollout' && e.kind === 'outcome') return out;
  }
}

describe('a real build and rollout, seen through SSE, history and /metrics', () => {
  let f: Fixture;
  const app = appName('live');

  beforeAll(async () => {
    f = await startAppFixture(app);
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('streams the build and rollout in order, records what PR #42 shipped, and counts it', async () => {
    const url = `${f.controller.url}/api/events?app=${app}`;
    const live = await openSse(url, f.token);
    expect(live.status).toBe(200);

    const sha = await pushBuilt(f, app, 'Make it fast (#42)');
    const rec = await finishedRollout(f, app, sha);
    expect(rec.outcome).toBe('succeeded');

    const seen = await untilOutcome(live);
    live.close();
    const ids = seen.map((e) => e.id);
    expect([...ids].sort((a, b) => compareIds(a, b))).toEqual(ids);
    const builds = seen.filter((e) => e.type === 'build');
    expect(builds.map((e) => e.type === 'build' && e.status)).toEqual(
      expect.arrayContaining(['queued', 'running', 'succeeded']),
    );
    expect(builds.at(-1)).toMatchObject({ sha, status: 'succeeded' });
    const steps = seen.filter((e) => e.type === 'rollout');
    expect(steps.every((e) => e.type === 'rollout' && e.rolloutId === rec.id)).toBe(true);
    const kinds = steps.map((e) => (e.type === 'rollout' ? e.kind : ''));
    expect(kinds[0]).toBe('created');
    expect(kinds.at(-1)).toBe('outcome');
    expect(kinds).toContain('instance-health');
    // The same events as the rollout's own list, in the same order.
    const listed = await f.controller.rollouts.events(rec.id);
    expect(kinds).toEqual(listed.map((e) => e.kind));

    // A client that dropped after `created` and reconnects with Last-Event-ID misses nothing.
    const created = steps[0]!;
    const resumed = await openSse(url, f.token, { 'last-event-id': created.id });
    const rest = await untilOutcome(resumed);
    resumed.close();
    expect(rest.map((e) => e.id)).toEqual(ids.slice(ids.indexOf(created.id) + 1));

    // History: what PR #42 shipped, where, and that it still runs.
    const res = await fetch(`${f.controller.url}/api/history?app=${app}&pr=42`, {
      headers: { authorization: `Bearer ${f.token}` },
    });
    const { rollouts } = (await res.json()) as {
      rollouts: {
        id: string;
        env: string;
        running: boolean;
        outcome: string;
        to: { sha: string; image: string };
        trigger: { kind: string };
        commit: { sha: string; message: string; prNumber: number; prTitle: string };
        pr: { number: number; title: string };
      }[];
    };
    expect(rollouts).toHaveLength(1);
    expect(rollouts[0]).toMatchObject({
      id: rec.id,
      env: 'production',
      running: true,
      outcome: 'succeeded',
      to: { sha, image: expect.stringContaining('@sha256:') },
      trigger: { kind: 'webhook' },
      commit: { sha, message: 'Make it fast (#42)', prNumber: 42, prTitle: 'Make it fast' },
      pr: { number: 42, title: 'Make it fast' },
    });

    // /metrics counts the build and the rollout with their labels (fed from the same stream).
    const text = await waitFor('the rollout to be counted', async () => {
      const t = await (await fetch(`${f.controller.url}/metrics`)).text();
      return t.includes(`gantry_rollouts_total{app="${app}"`) ? t : undefined;
    });
    expect(text).toContain(`gantry_builds_total{app="${app}",outcome="succeeded"} 1`);
    expect(text).toContain(
      `gantry_rollouts_total{app="${app}",env="production",kind="deploy",outcome="succeeded"} 1`,
    );
    expect(text).toMatch(
      /gantry_rollout_duration_seconds_count\{kind="deploy",outcome="succeeded"\} [1-9]/,
    );
    expect(text).toMatch(/gantry_build_duration_seconds_count\{outcome="succeeded"\} [1-9]/);
    expect(text).toMatch(
      new RegExp(
        `gantry_instance_health_total\\{app="${app}",env="production",status="healthy"\\} [1-9]`,
      ),
    );
  });
});

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
