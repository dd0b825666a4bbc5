import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appName,
  closeWithInstances,
  finishedRollout,
  pushBuilt,
  startAppFixture,
  type Fixture,
} from '../support/controller-fixture.js';

describe('the bake period watches the edge', () => {
  let f: Fixture;
  const app = appName('bake');

  beforeAll(async () => {
    f = await startAppFixture(app, {
      replicas: 2,
      lines: ['rollout: { maxSurge: 1, maxUnavailable: 0, bake: 6s }'],
    });
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it(
    'rolls back a revision that passes its health checks but fails real requests',
    { timeout: 240_000 },
    async () => {
      const good = await pushBuilt(f, app, 'Good');
      const first = await finishedRollout(f, app, good);
      expect(first.outcome, first.reason).toBe('succeeded');
      const url = (await f.controller.rollouts.env(app, 'production')).route!.url;

      // Healthy by its checks, but every real request to /cgi-bin/checkout is a 500.
      await f.wt.write(
        'www/cgi-bin/checkout',
        '#!/bin/sh\necho "Status: 500 Internal Server Error"\necho "Content-Type: text/plain"\necho ""\necho broken\n',
      );
      await chmod(path.join(f.wt.dir, 'www/cgi-bin/checkout'), 0o755);
      const bad = await pushBuilt(f, app, 'Checkout rewrite');

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
