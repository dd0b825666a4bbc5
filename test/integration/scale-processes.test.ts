/**
 * Scale and restart of an app with two process types (a routed `web`, an unrouted `worker`) on
 * the real Docker engine, Caddy edge, Redis and git, with a steady load through the edge: one
 * scale names both; a restart of one process type replaces only its instances; a scale to 0
 * stops the workers and leaves web alone. No request fails; a process the spec does not declare
 * is refused, naming those it does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, apiFailure } from '../../src/cli/client.js';
import {
  appName,
  closeWithInstances,
  finishedRollout,
  pushBuilt,
  rolloutEnded,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { startFixedRate } from '../support/fixed-rate.js';
import { webAndWorkerSpec } from '../support/process-spec.js';
import { gantry } from './cli-process.js';

describe('scale and restart of web and worker', () => {
  let f: Fixture;
  const app = appName('scaleprocs');

  /** Ids of the running instances of each process type, once they are `web` routed and `worker`. */
  async function formation(web: number, worker: number) {
    return waitFor(
      `web=${web} (routed) and worker=${worker} running`,
      async () => {
        const env = await f.controller.rollouts.env(app, 'production');
        const upstreams = new Set(await f.controller.edge!.upstreams(env.route!.id));
        const all = (await f.controller.runtime!.list({ app, env: 'production' })).filter(
          (i) => i.state === 'running',
        );
        const of = (p: string) => all.filter((i) => (i.process ?? 'web') === p);
        const routed = of('web').filter((i) => upstreams.has(`127.0.0.1:${i.hostPort}`));
        if (of('web').length !== web || routed.length !== web || of('worker').length !== worker)
          return undefined;
        return {
          web: of('web')
            .map((i) => i.id)
            .sort(),
          worker: of('worker')
            .map((i) => i.id)
            .sort(),
        };
      },
      120_000,
    );
  }
  const post = <T>(path: string, body: unknown) =>
    api<T>(f.deployer, `/api/apps/${app}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const done = async (id: string | null) => {
    expect(id).not.toBeNull();
    expect((await rolloutEnded(f, id!)).outcome).toBe('succeeded');
  };

  beforeAll(async () => {
    f = await startFixture({ deploy: true });
    await f.wt.write('gantry.yaml', webAndWorkerSpec(app));
    const sha = await pushBuilt(f, app, 'web and worker');
    expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
    await formation(2, 1);
  }, 300_000);

  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('scales both, restarts the worker alone, stops the workers: 0 failed requests', async () => {
    const e = await post('/scale', { processes: { web: 3, clock: 1 } }).catch((x: unknown) => x);
    expect(apiFailure(e)?.message).toBe(
      'clock is not a process of this app; it declares web, worker',
    );

    const env = await f.controller.rollouts.env(app, 'production');
    const load = startFixedRate(env.route!.url, 20);
    const before = await formation(2, 1);

    const up = await post<{ release: { line: string }; rolloutId: string }>('/scale', {
      processes: { web: 3, worker: 2 },
    });
    expect(up.release.line).toBe('v2: scale web=3, worker=2 by ci');
    await done(up.rolloutId);
    const scaled = await formation(3, 2);
    for (const id of before.web) expect(scaled.web).toContain(id);
    for (const id of before.worker) expect(scaled.worker).toContain(id);
    // `gantry status` shows ready/desired per process once the reconciler has seen them.
    const status = await waitFor('gantry status with both counts', async () => {
      const res = await gantry(['status', app], { client: f.client });
      return res.stdout.includes('processes: web 3/3, worker 2/2') ? res.stdout : undefined;
    });
    console.log(`$ gantry status ${app}\n${status}`);

    const restart = await post<{ processes: string[]; rolloutId: string }>('/restart', {
      process: 'worker',
    });
    expect(restart.processes).toEqual(['worker']);
    await done(restart.rolloutId);
    const restarted = await formation(3, 2);
    expect(restarted.web).toEqual(scaled.web);
    for (const id of scaled.worker) expect(restarted.worker).not.toContain(id);

    const stop = await post<{ rolloutId: string }>('/scale', { processes: { worker: 0 } });
    await done(stop.rolloutId);
    const stopped = await formation(3, 0);
    expect(stopped.web).toEqual(scaled.web);

    const { total, failures } = await load.stop();
    console.log(`web+worker scale and restart: ${total} GETs through the edge`);
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(20);
    const cfg = await api<{ scale: Record<string, { replicas: number }> }>(
      f.client,
      `/api/apps/${app}/config`,
    );
    expect(cfg.scale).toMatchObject({ web: { replicas: 3 }, worker: { replicas: 0 } });
  }, 600_000);
});
