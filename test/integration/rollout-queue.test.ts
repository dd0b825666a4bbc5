import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueRollout } from '../../src/deploy/enqueue.js';
import { pino } from 'pino';
import { uniqueName } from '../support/env.js';
import {
  closeWithInstances,
  finishedBuild,
  finishedRollout,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

describe('the rollouts queue', () => {
  let f: Fixture;
  const app = uniqueName('queue').replace(/-/g, '');

  beforeAll(async () => {
    f = await startFixture({ deploy: true });
    await f.wt.write(
      'gantry.yaml',
      [
        `app: ${app}`,
        'run: { port: 8080, replicas: 1 }',
        'health: { http: { path: /healthz }, interval: 1s, startPeriod: 2s, healthyThreshold: 2 }',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('skips a queued deploy that a newer one superseded, and runs the newest', async () => {
    const shas: string[] = [];
    for (const n of [1, 2, 3]) {
      await f.wt.write('www/index.html', `<h1>v${n}</h1>\n`);
      const sha = await f.push('github', `v${n}`);
      expect((await finishedBuild(f, app, sha)).status).toBe('succeeded');
      expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
      shas.push(sha);
    }
    const [v1, v2, v3] = shas as [string, string, string];
    const deps = {
      store: f.controller.store,
      rollouts: f.controller.rollouts,
      queues: f.controller.queues,
      log: pino({ level: 'silent' }),
    };
    const trigger = { kind: 'manual' as const, actor: 'test' };
    // A holds the environment (paused), while B and then C queue up behind it.
    const a = await enqueueRollout(deps, {
      app,
      env: 'production',
      sha: v1,
      kind: 'deploy',
      trigger,
    });
    await waitFor('rollout A to start', async () => f.controller.rollouts.get(a));
    await f.controller.rollouts.pushIntent(a, 'pause');
    const b = await enqueueRollout(deps, {
      app,
      env: 'production',
      sha: v2,
      kind: 'deploy',
      trigger,
    });
    const c = await enqueueRollout(deps, {
      app,
      env: 'production',
      sha: v3,
      kind: 'deploy',
      trigger,
    });
    await f.controller.rollouts.pushIntent(a, 'resume');

    const done = await waitFor(
      'all three rollouts to end',
      async () => {
        const recs = await Promise.all([a, b, c].map((id) => f.controller.rollouts.get(id)));
        return recs.every((r) => r?.outcome) ? recs : undefined;
      },
      120_000,
    );
    expect(done.map((r) => r?.outcome)).toEqual(['succeeded', 'superseded', 'succeeded']);
    expect(done[1]?.reason).toContain(v3.slice(0, 12));
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(v3);
  });
});
