import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import {
  appName,
  closeWithInstances,
  finishedBuild,
  finishedRollout,
  pushPageBuilt,
  startExampleFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

describe('rolling replacement on Docker behind the Caddy edge', () => {
  let f: Fixture;
  // A name of its own: instances are found by app and env labels on the shared Docker engine.
  const app = appName('roll');

  beforeAll(async () => {
    f = await startExampleFixture(app);
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('deploys 3 replicas, then rolls a revision with a failing health check back by itself', async () => {
    const good = await pushPageBuilt(f, app, '<h1>good revision</h1>\n', 'Good revision');
    const first = await finishedRollout(f, app, good);
    expect(first.outcome, first.reason).toBe('succeeded');

    const env = await f.controller.rollouts.env(app, 'production');
    expect(env.current?.sha).toBe(good);
    const url = env.route!.url;
    expect(await (await fetch(url)).text()).toContain('good revision');
    const running = await f.controller.runtime!.list({ app, env: 'production' });
    expect(running.filter((i) => i.state === 'running' && i.revision === good)).toHaveLength(3);

    // The broken revision serves pages but not its health check.
    const { rm } = await import('node:fs/promises');
    await rm(path.join(f.wt.dir, 'www', 'healthz'));
    await f.wt.write('www/index.html', '<h1>bad revision</h1>\n');
    const bad = await f.push('gitea', 'Bad revision');
    expect((await finishedBuild(f, app, bad)).status).toBe('succeeded');
    const second = await finishedRollout(f, app, bad);
    expect(second.outcome).toBe('failed');
    expect(second.reason).toMatch(/healthz|404|unhealthy/i);
    // busybox httpd -v logs each answer: the failing checks' 404s are in the kept log tail.
    expect(second.failureLogs?.lines.join('\n')).toMatch(/response:404/);

    const after = await f.controller.rollouts.env(app, 'production');
    expect(after.current?.sha).toBe(good);
    const left = await f.controller.runtime!.list({ app, env: 'production' });
    expect(left.filter((i) => i.revision === bad)).toHaveLength(0);
    expect(left.filter((i) => i.state === 'running' && i.revision === good)).toHaveLength(3);
    expect(await (await fetch(url)).text()).toContain('good revision');
  });

  it('aborts a rollout on request through the API: the previous revision keeps serving', async () => {
    await f.wt.write('www/healthz', 'ok\n');
    const third = await pushPageBuilt(f, app, '<h1>third revision</h1>\n', 'Third revision');
    const running = await waitFor('the third rollout to start', async () =>
      (await f.controller.rollouts.list(app, 'production')).find((r) => r.to.sha === third),
    );
    // A viewer may look but not act.
    await expect(
      api(f.client, `/api/rollouts/${running.id}/abort`, { method: 'POST' }),
    ).rejects.toThrow(/403/);
    await api(f.deployer, `/api/rollouts/${running.id}/abort`, { method: 'POST' });
    const done = await finishedRollout(f, app, third);
    expect(done.outcome).toBe('aborted');
    const env = await f.controller.rollouts.env(app, 'production');
    expect(env.current?.sha).not.toBe(third);
    const left = await f.controller.runtime!.list({ app, env: 'production' });
    expect(left.filter((i) => i.revision === third)).toHaveLength(0);
    expect(await (await fetch(env.route!.url)).text()).toContain('good revision');
    const view = await api<{ rollout: { phase: string }; events: { text: string }[] }>(
      f.client,
      `/api/rollouts/${running.id}`,
    );
    expect(view.rollout.phase).toBe('aborted');
    expect(view.events.map((e) => e.text).join('\n')).toMatch(/abort applied/);
  });
});
