/**
 * Process types on the real Docker engine, Caddy edge, Redis and git over HTTP: a `web` and a
 * `worker` from one image deploy together; the worker runs, is not routed and publishes no port;
 * the reconciler replaces a removed worker; a release whose worker crashes fails and is rolled
 * back as a whole (the old web keeps serving, nothing of the bad release stays).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import type { Instance } from '../../src/runtime/runtime.js';
import {
  appName,
  closeWithInstances,
  finishedRollout,
  pushPageBuilt,
  rolloutEnded,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { WORKER_LOOP, readyProcesses, webAndWorkerSpec } from '../support/process-spec.js';

const run = promisify(execFile);

/** A routed `web` (the example's httpd) and an unrouted `worker` running `worker`. */
const spec = (app: string, worker: string): string =>
  webAndWorkerSpec(app, worker, ['rollout: { progressDeadline: 60s }']);

describe('process types on Docker', () => {
  let f: Fixture;
  const app = appName('procs');
  let sha = '';

  const runtime = () => f.controller.runtime!;
  const list = async (): Promise<Instance[]> =>
    (await runtime().list({ app, env: 'production' })).filter((i) => i.state === 'running');
  const ofProcess = (all: readonly Instance[], p: string) =>
    all.filter((i) => (i.process ?? 'web') === p);

  beforeAll(async () => {
    f = await startFixture({
      deploy: true,
      config: ['reconcile: { interval: 3s, strayGrace: 2s }'],
    });
    await f.wt.write('gantry.yaml', spec(app, WORKER_LOOP));
    sha = await pushPageBuilt(f, app, '<h1>two processes</h1>\n', 'web and worker');
    expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('deploys web and worker from one image: the worker runs, unrouted, with no published port', async () => {
    const all = await list();
    const web = ofProcess(all, 'web');
    const workers = ofProcess(all, 'worker');
    expect(web).toHaveLength(2);
    expect(workers).toHaveLength(1);
    const worker = workers[0]!;
    expect(worker.revision).toBe(sha);
    expect(worker.hostPort).toBeUndefined();
    const { stdout } = await run('docker', [
      'inspect',
      '--format',
      '{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}} {{index .Config.Labels "dev.gantry.process"}} {{json .Config.Cmd}}',
      worker.id,
    ]);
    console.log(`worker ${worker.name}: ${stdout.trim()}`);
    const [ports, bindings, label] = stdout.trim().split(' ');
    // The image's EXPOSE may list the port, but nothing is bound to it on the host.
    const bound = Object.values((JSON.parse(ports!) ?? {}) as Record<string, unknown>);
    expect(bound.every((b) => b === null)).toBe(true);
    expect(bindings === '{}' || bindings === 'null').toBe(true);
    expect(label).toBe('worker');
    expect(worker.name).toContain('--worker--');
    // Only web instances are in the edge.
    const env = await f.controller.rollouts.env(app, 'production');
    const upstreams = await f.controller.edge!.upstreams(env.route!.id);
    expect([...upstreams].sort()).toEqual(web.map((i) => `127.0.0.1:${i.hostPort}`).sort());
    const page = await fetch(env.route!.url);
    expect(await page.text()).toContain('two processes');
    expect(await readyProcesses(f, app)).toEqual([
      { name: 'web', desired: 2, ready: 2, routed: true },
      { name: 'worker', desired: 1, ready: 1, routed: false },
    ]);
  });

  it('the reconciler replaces a removed worker', async () => {
    const [worker] = ofProcess(await list(), 'worker');
    await run('docker', ['rm', '-f', worker!.id]);
    const back = await waitFor(
      'a new worker running',
      async () => {
        const w = ofProcess(await list(), 'worker');
        return w.length === 1 && w[0]!.id !== worker!.id ? w[0] : undefined;
      },
      60_000,
    );
    expect(back.revision).toBe(sha);
    expect(ofProcess(await list(), 'web')).toHaveLength(2);
    const texts = await waitFor('the repair on the timeline', async () => {
      const t = (await f.controller.rollouts.envEvents(app, 'production')).map((e) => e.text);
      return t.some((line) => line.includes(`replaced ${worker!.slot}`)) ? t : undefined;
    }).catch(async (e: unknown) => {
      console.log((await f.controller.rollouts.envEvents(app, 'production')).map((x) => x.text));
      throw e;
    });
    expect(texts.length).toBeGreaterThan(0);
  });

  it('a redeploy of the running revision restarts every instance of every process', async () => {
    const before = await list();
    const res = await api<{ rolloutId: string }>(f.deployer, `/api/apps/${app}/deploy`, {
      method: 'POST',
      body: JSON.stringify({ ref: sha }),
    });
    const rec = await rolloutEnded(f, res.rolloutId);
    console.log(`redeploy: ${rec.outcome}: ${rec.reason ?? ''}`);
    expect(rec.outcome).toBe('succeeded');
    const after = await list();
    expect(ofProcess(after, 'web')).toHaveLength(2);
    expect(ofProcess(after, 'worker')).toHaveLength(1);
    expect(after.filter((i) => before.some((b) => b.id === i.id))).toEqual([]);
    const env = await f.controller.rollouts.env(app, 'production');
    expect(env.current?.sha).toBe(sha);
    expect(env.current?.rolloutId).toBe(res.rolloutId);
  });

  it('a release whose worker crashes fails and is rolled back as a whole', async () => {
    await f.wt.write('gantry.yaml', spec(app, 'echo worker dies; exit 3'));
    const bad = await pushPageBuilt(f, app, '<h1>bad release</h1>\n', 'worker crashes');
    const rec = await finishedRollout(f, app, bad);
    console.log(`crashing worker: ${rec.outcome}: ${rec.reason ?? ''}`);
    expect(rec.outcome).toBe('failed');
    const env = await f.controller.rollouts.env(app, 'production');
    expect(env.current?.sha).toBe(sha);
    // Nothing of the bad release remains, and the old web and worker run in full.
    const all = await runtime().list({ app, env: 'production' });
    expect(all.filter((i) => i.revision === bad)).toEqual([]);
    const running = await list();
    expect(ofProcess(running, 'web').every((i) => i.revision === sha)).toBe(true);
    expect(ofProcess(running, 'web')).toHaveLength(2);
    expect(ofProcess(running, 'worker').map((i) => i.revision)).toEqual([sha]);
    const page = await fetch(env.route!.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('two processes');
  });
});
