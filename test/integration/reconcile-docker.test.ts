/**
 * Continuous reconciliation on the real Docker engine and Caddy edge: with no rollout running,
 * instances removed, stopped, turned unhealthy or left behind are brought back to the record,
 * every repair is on the environment's timeline, and traffic through the edge keeps flowing.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { readEdgeState } from '../../src/edge/supervisor/edge-state.js';
import { startFixedRate } from '../support/fixed-rate.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../src/runtime/runtime.js';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedRollout,
  pushPageBuilt,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

const run = promisify(execFile);
const docker = (...args: string[]) => run('docker', args);

async function startHealFixture(app: string, reconcile: string): Promise<Fixture> {
  const f = await startFixture({ deploy: true, config: [`reconcile: ${reconcile}`] });
  await f.wt.write('gantry.yaml', (await exampleSpec(app)).replace('replicas: 3', 'replicas: 4'));
  return f;
}

/** The environment's instances of `sha` that run and that the edge routes. */
async function serving(f: Fixture, app: string, sha: string): Promise<Instance[]> {
  const env = await f.controller.rollouts.env(app, 'production');
  const upstreams = new Set(await f.controller.edge!.upstreams(env.route!.id));
  const list = await f.controller.runtime!.list({ app, env: 'production' });
  return list.filter(
    (i) => i.state === 'running' && i.revision === sha && upstreams.has(`127.0.0.1:${i.hostPort}`),
  );
}

describe('reconciler on Docker: self-heal between rollouts', () => {
  let f: Fixture;
  const app = appName('heal');
  let sha = '';

  beforeAll(async () => {
    f = await startHealFixture(app, '{ interval: 3s, strayGrace: 2s }');
    sha = await pushPageBuilt(f, app, '<h1>held</h1>\n', 'Held revision');
    expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
    await waitFor('status healthy', async () => {
      const s = await f.controller.rollouts.status(app, 'production');
      return s?.health.status === 'healthy' ? s : undefined;
    });
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('(b) one instance removed and one stopped by hand: back to 4 healthy, routed instances, repairs on the timeline', async () => {
    const [a, b] = await serving(f, app, sha);
    await docker('rm', '-f', a!.id);
    await docker('stop', '-t', '1', b!.id);
    const back = await waitFor(
      '4 healthy routed instances again',
      async () => {
        const s = await serving(f, app, sha);
        return s.length === 4 && !s.some((i) => i.id === a!.id || i.id === b!.id) ? s : undefined;
      },
      60_000,
    );
    expect(back).toHaveLength(4);
    // Nothing more than the record asks for is left running.
    const all = await f.controller.runtime!.list({ app, env: 'production' });
    expect(all.filter((i) => i.state === 'running')).toHaveLength(4);
    const timeline = await f.controller.rollouts.envEvents(app, 'production');
    const texts = timeline.map((e) => e.text).join('\n');
    expect(texts).toContain(`replaced ${a!.slot}`);
    expect(texts).toMatch(new RegExp(`replaced ${b!.slot} with \\S+, exited`));
    expect(timeline.filter((e) => e.kind === 'self-heal').length).toBeGreaterThanOrEqual(2);
    const status = await waitFor('status healthy again', async () => {
      const s = await f.controller.rollouts.status(app, 'production');
      return s?.health.status === 'healthy' && s.sync.status === 'synced' ? s : undefined;
    });
    expect(status.instances.filter((i) => i.verdict === 'healthy')).toHaveLength(4);
  });

  it('(c) an instance whose checks start failing is unrouted, then replaced, with 0 failed GETs', async () => {
    const env = await f.controller.rollouts.env(app, 'production');
    const load = startFixedRate(env.route!.url, 20);
    const [victim] = await serving(f, app, sha);
    const upstream = `127.0.0.1:${victim!.hostPort}`;
    // Its health check answers 404 from now on; its pages still serve.
    await docker('exec', '-u', 'root', victim!.id, 'rm', '/www/healthz');
    const brokeAt = Date.now();
    await waitFor('the failing instance out of the edge', async () =>
      (await f.controller.edge!.upstreams(env.route!.id)).includes(upstream) ? undefined : true,
    );
    const unroutedAfterMs = Date.now() - brokeAt;
    await waitFor(
      'a replacement serving and the failing one gone',
      async () => {
        const s = await serving(f, app, sha);
        const all = await f.controller.runtime!.list({ app, env: 'production' });
        return s.length === 4 && !all.some((i) => i.id === victim!.id) ? s : undefined;
      },
      60_000,
    );
    const { total, failures } = await load.stop();
    console.log(`(c) unrouted ${unroutedAfterMs} ms after its check began to fail; ${total} GETs`);
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(20);
    const texts = (await f.controller.rollouts.envEvents(app, 'production')).map((e) => e.text);
    expect(texts.some((t) => t.includes(`unrouted ${victim!.slot}`) && /404/.test(t))).toBe(true);
    expect(texts.some((t) => t.includes(`replaced ${victim!.slot}`))).toBe(true);
  });

  it('(d) an edge process killed: the app answers through the edge again', async () => {
    const env = await f.controller.rollouts.env(app, 'production');
    for (const tier of ['back', 'front'] as const) {
      const state = await readEdgeState(path.join(f.dataDir, 'edge'));
      const pid = state[tier]?.pid;
      expect(pid, `${tier} pid in edge.json`).toBeGreaterThan(1);
      process.kill(pid!, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor(`the app through the edge after the ${tier} Caddy died`, async () => {
        const res = await fetch(env.route!.url, { signal: AbortSignal.timeout(1000) }).catch(
          () => undefined,
        );
        return res?.status === 200 && (await res.text()).includes('held') ? true : undefined;
      });
      console.log(
        `(d) ${tier} Caddy killed: the app answered again after ${Date.now() - killedAt} ms`,
      );
    }
    expect(await serving(f, app, sha)).toHaveLength(4);
  });

  it('(e) a stray gantry-labelled container is removed after the grace period; a foreign one is never touched', async () => {
    const labels = (rollout: string, managed: boolean) => [
      ...(managed ? ['--label', 'dev.gantry.managed=true'] : []),
      '--label',
      `dev.gantry.app=${app}`,
      '--label',
      'dev.gantry.env=production',
      '--label',
      `dev.gantry.revision=${sha}`,
      '--label',
      `dev.gantry.rollout=${rollout}`,
      '--label',
      `dev.gantry.slot=${rollout}-0`,
      '--label',
      'dev.gantry.port=8080',
    ];
    const { stdout: stray } = await docker(
      'run',
      '-d',
      ...labels('r-nobody-knows', true),
      'gantry.local/busybox:1',
      'sleep',
      '600',
    );
    const { stdout: foreign } = await docker(
      'run',
      '-d',
      ...labels('r-foreign', false),
      'gantry.local/busybox:1',
      'sleep',
      '600',
    );
    try {
      await waitFor(
        'the stray removed',
        async () => {
          const { stdout } = await docker(
            'ps',
            '-aq',
            '--no-trunc',
            '--filter',
            `id=${stray.trim()}`,
          );
          return stdout.trim() === '' ? true : undefined;
        },
        30_000,
      );
      const { stdout } = await docker('inspect', '-f', '{{.State.Running}}', foreign.trim());
      expect(stdout.trim()).toBe('true');
      const texts = (await f.controller.rollouts.envEvents(app, 'production')).map((e) => e.text);
      expect(
        texts.some((t) => t.includes('removed stray r-nobody-knows-0') && t.includes('not known')),
      ).toBe(true);
      expect(await serving(f, app, sha)).toHaveLength(4);
    } finally {
      await docker('rm', '-f', foreign.trim()).catch(() => undefined);
      await docker('rm', '-f', stray.trim()).catch(() => undefined);
    }
  });
});

describe('reconciler on Docker with self-heal off', () => {
  let f: Fixture;
  const app = appName('drift');

  beforeAll(async () => {
    f = await startHealFixture(app, '{ interval: 2s, selfHeal: false }');
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('(g) drift is shown as status and on the timeline; nothing is repaired', async () => {
    const sha = await pushPageBuilt(f, app, '<h1>drift</h1>\n', 'Drift revision');
    expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
    const [gone] = await serving(f, app, sha);
    await docker('rm', '-f', gone!.id);
    const status = await waitFor('the drift in the status', async () => {
      const s = await f.controller.rollouts.status(app, 'production');
      return s?.sync.status === 'out-of-sync' ? s : undefined;
    });
    expect(status.selfHeal).toBe(false);
    expect(status.sync.reasons.map((r) => r.reason)).toContain('drift');
    expect(status.sync.reasons.find((r) => r.reason === 'drift')?.detail).toContain('3 of 4');
    expect(status.health.status).toBe('degraded');
    // Two more resyncs: still 3, nothing started.
    await new Promise((r) => setTimeout(r, 5000));
    const running = (await f.controller.runtime!.list({ app, env: 'production' })).filter(
      (i) => i.state === 'running',
    );
    expect(running).toHaveLength(3);
    const timeline = await f.controller.rollouts.envEvents(app, 'production');
    expect(timeline.filter((e) => e.kind === 'drift')).toHaveLength(1);
    expect(timeline.filter((e) => e.kind === 'self-heal')).toHaveLength(0);
  });
});

describe('reconciler on Docker: environments that leave the repo', () => {
  let f: Fixture;
  let g: Fixture;
  const app = appName('orphan');
  const auto = appName('autoprune');

  afterAll(async () => {
    await closeWithInstances(f, app);
    await closeWithInstances(g, auto);
  });

  /** Deploys `name` to production, then pushes a gantry.yaml that no longer names production. */
  async function deployThenOrphan(fx: Fixture, name: string): Promise<void> {
    const sha = await pushPageBuilt(fx, name, '<h1>orphan</h1>\n', 'First');
    expect((await finishedRollout(fx, name, sha)).outcome).toBe('succeeded');
    const spec = (await exampleSpec(name)).replace(
      'production: { branch: main }',
      'staging: { branch: release }',
    );
    await fx.wt.write('gantry.yaml', spec);
    await fx.push('github', 'Move the app to staging only');
  }

  it('shows an environment gone from gantry.yaml as orphaned, removes nothing, and prunes it on request', async () => {
    f = await startHealFixture(app, '{ interval: 1s }');
    await deployThenOrphan(f, app);
    const status = await waitFor('the environment orphaned', async () => {
      const s = await f.controller.rollouts.status(app, 'production');
      return s?.orphaned ? s : undefined;
    });
    expect(status.orphaned?.why).toContain('production is no longer in');
    expect(status.sync.reasons.map((r) => r.reason)).toContain('orphaned');
    // Nothing removed silently: the instances run and the route serves.
    await new Promise((r) => setTimeout(r, 3000));
    const env = await f.controller.rollouts.env(app, 'production');
    expect(await (await fetch(env.route!.url)).text()).toContain('orphan');
    const running = (await f.controller.runtime!.list({ app, env: 'production' })).filter(
      (i) => i.state === 'running',
    );
    expect(running).toHaveLength(4);
    const timeline = await f.controller.rollouts.envEvents(app, 'production');
    expect(timeline.filter((e) => e.kind === 'orphaned')).toHaveLength(1);

    const res = await fetch(`${f.controller.url}/api/apps/${app}/prune`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.deployer.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ env: 'production' }),
    });
    expect(res.status).toBe(200);
    expect(await f.controller.runtime!.list({ app, env: 'production' })).toEqual([]);
    expect(
      (await f.controller.rollouts.envEvents(app, 'production')).some((e) => e.kind === 'pruned'),
    ).toBe(true);
  });

  it('with reconcile.prune on, removes the orphaned environment by itself, on the record', async () => {
    g = await startHealFixture(auto, '{ interval: 1s, prune: true }');
    await deployThenOrphan(g, auto);
    await waitFor(
      'the orphan pruned',
      async () =>
        (await g.controller.runtime!.list({ app: auto, env: 'production' })).length === 0
          ? true
          : undefined,
      60_000,
    );
    const timeline = await g.controller.rollouts.envEvents(auto, 'production');
    expect(timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['orphaned', 'pruned']));
    expect(timeline.find((e) => e.kind === 'pruned')?.text).toContain('reconcile.prune');
    expect(await g.controller.rollouts.deployedEnvs()).not.toContainEqual({
      app: auto,
      env: 'production',
    });
  });
});
