import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/env.js';
import {
  finishedBuild,
  startFixture,
  type Fixture,
  finishedRollout,
  closeWithInstances,
} from '../support/controller-fixture.js';

describe('the bake period watches the edge', () => {
  let f: Fixture;
  const app = uniqueName('bake').replace(/-/g, '');

  beforeAll(async () => {
    f = await startFixture({ deploy: true });
    await f.wt.write(
      'gantry.yaml',
      [
        `app: ${app}`,
        'run: { port: 8080, replicas: 2 }',
        'health: { http: { path: /healthz }, interval: 1s, startPeriod: 2s, healthyThreshold: 2 }',
        'rollout: { maxSurge: 1, maxUnavailable: 0, bake: 6s }',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it(
    'rolls back a revision that passes its health checks but fails real requests',
    { timeout: 240_000 },
    async () => {
      const good = await f.push('github', 'Good');
      expect((await finishedBuild(f, app, good)).status).toBe('succeeded');
      expect((await finishedRollout(f, app, good)).outcome).toBe('succeeded');
      const url = (await f.controller.rollouts.env(app, 'production')).route!.url;

      // Healthy by its checks, but every real request to /cgi-bin/checkout is a 500.
      await f.wt.write(
        'www/cgi-bin/checkout',
        '#!/bin/sh\necho "Status: 500 Internal Server Error"\necho "Content-Type: text/plain"\necho ""\necho broken\n',
      );
      await chmod(path.join(f.wt.dir, 'www/cgi-bin/checkout'), 0o755);
      const bad = await f.push('github', 'Checkout rewrite');
      expect((await finishedBuild(f, app, bad)).status).toBe('succeeded');

      // Users keep buying while it rolls out.
      let done = false;
      const traffic = (async () => {
        while (!done) {
          await fetch(`${url}/cgi-bin/checkout`)
            .then((r) => r.arrayBuffer())
            .catch(() => undefined);
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      const rollout = await finishedRollout(f, app, bad);
      done = true;
      await traffic;
      const events = await f.controller.rollouts.events(rollout.id);
      console.log(events.map((e) => `${e.at - events[0]!.at} ${e.text}`).join('\n'));

      expect(rollout.outcome).toBe('failed');
      expect(rollout.reason).toMatch(/error rate|5xx|error/i);
      const env = await f.controller.rollouts.env(app, 'production');
      expect(env.current?.sha).toBe(good);
      const left = await f.controller.runtime!.list({ app, env: 'production' });
      expect(left.filter((i) => i.revision === bad)).toHaveLength(0);
      expect(left.filter((i) => i.revision === good && i.state === 'running')).toHaveLength(2);
    },
  );
});
