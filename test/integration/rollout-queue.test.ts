import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueRollout } from '../../src/deploy/enqueue.js';
import { pino } from 'pino';
import {
  appName,
  closeWithInstances,
  pushPageDeployed,
  startAppFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

describe('the rollouts queue', () => {
  let f: Fixture;
  const app = appName('queue');

  beforeAll(async () => {
    f = await startAppFixture(app);
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('skips a queued deploy that a newer one superseded, and runs the newest', async () => {
    const shas: string[] = [];
    for (const n of [1, 2, 3]) {
      shas.push(await pushPageDeployed(f, app, `<h1>v${n}</h1>\n`, `v${n}`));
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
