/**
 * `gantry scale` and `gantry restart` end to end, against a real controller, Redis, Docker, Caddy
 * and git, with a steady load through the edge: a scale is a release of the running image and
 * config that adds or removes instances and never replaces one; a restart replaces every
 * instance; neither drops a request. Wrong requests change nothing; a rollback to a release from
 * before a scale restores its formation; the history says who scaled and who restarted.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, apiFailure, type ApiFailure } from '../../src/cli/client.js';
import type { Instance } from '../../src/runtime/runtime.js';
import {
  appName,
  closeWithInstances,
  finishedRollout,
  pushBuilt,
  rolloutEnded,
  startAppFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { startFixedRate } from '../support/fixed-rate.js';
import { gantry } from './cli-process.js';

interface ReleaseView {
  version: number;
  line: string;
  instancesOf?: number;
  config: { scale?: Record<string, number> };
}

describe('scale and restart under load', () => {
  let f: Fixture;
  const app = appName('scale');
  const transcript: string[] = [];

  const runtime = () => {
    const r = f.controller.runtime;
    if (!r) throw new Error('the fixture deploys, so it has a runtime');
    return r;
  };
  /** The instances that run and that the edge routes. */
  async function serving(): Promise<Instance[]> {
    const env = await f.controller.rollouts.env(app, 'production');
    const upstreams = new Set(await f.controller.edge!.upstreams(env.route!.id));
    const list = await runtime().list({ app, env: 'production' });
    return list.filter(
      (i) => i.state === 'running' && upstreams.has(i.upstream ?? `127.0.0.1:${i.hostPort}`),
    );
  }
  /** Waits until exactly `n` instances run, all routed, and returns their ids. */
  async function reached(n: number): Promise<string[]> {
    const list = await waitFor(
      `${n} running, routed instances`,
      async () => {
        const all = (await runtime().list({ app, env: 'production' })).filter(
          (i) => i.state === 'running',
        );
        const routed = await serving();
        return all.length === n && routed.length === n ? routed : undefined;
      },
      120_000,
    );
    return list.map((i) => i.id).sort();
  }
  const url = async () => (await f.controller.rollouts.env(app, 'production')).route!.url;
  const post = <T>(path: string, body: unknown, client = f.deployer) =>
    api<T>(client, `/api/apps/${app}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const refused = async (path: string, body: unknown, client = f.deployer): Promise<ApiFailure> => {
    const e = await post(path, body, client).then(
      () => undefined,
      (err: unknown) => err,
    );
    const failure = apiFailure(e);
    if (!failure) throw new Error(`expected an API error, got ${String(e)}`);
    return failure;
  };
  const releases = async () =>
    (await api<{ releases: ReleaseView[] }>(f.client, `/api/apps/${app}/releases?env=production`))
      .releases;
  /** A CLI run, kept for the transcript (docs/cli.md's examples come from it). */
  const cli = async (args: string[], client = f.deployer) => {
    const res = await gantry(args, { client });
    transcript.push(`$ gantry ${args.join(' ')}\n${res.stdout}${res.stderr}(exit ${res.code})\n`);
    return res;
  };

  beforeAll(async () => {
    f = await startAppFixture(app, { replicas: 2 });
    const sha = await pushBuilt(f, app, 'two web instances');
    expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
    await reached(2);
  }, 300_000);

  afterAll(async () => {
    // GANTRY_CLI_TRANSCRIPT=file keeps what the CLI printed (docs/cli.md's examples come from it).
    const out = process.env.GANTRY_CLI_TRANSCRIPT;
    if (out && transcript.length) await writeFile(out, transcript.join('\n'));
    await closeWithInstances(f, app);
  });

  it('refuses a viewer, an undeclared process and replicas above the cap, changing nothing', async () => {
    const viewer = await refused('/scale', { processes: { web: 3 } }, f.client);
    expect(viewer.status).toBe(403);
    const unknown = await refused('/scale', { env: 'production', processes: { clock: 1 } });
    expect(unknown.status).toBe(400);
    expect(unknown.code).toBe('GANTRY_ERR_SCALE_INVALID');
    expect(unknown.message).toBe('clock is not a process of this app; it declares web');
    const above = await refused('/scale', { processes: { web: 201 } });
    expect(above.message).toMatch(/web=201: replicas must be a whole number from 0 to 200/);
    const badName = await refused('/scale', { processes: { Web: 1 } });
    expect(badName.status).toBe(400);
    const restartUnknown = await refused('/restart', { process: 'clock' });
    expect(restartUnknown.message).toBe('clock is not a process of ' + app + '; it declares web');
    const viewerRestart = await refused('/restart', {}, f.client);
    expect(viewerRestart.status).toBe(403);
    expect((await releases()).map((r) => r.version)).toEqual([1]);
    const cfg = await api<{ scale: object }>(f.client, `/api/apps/${app}/config`);
    expect(cfg.scale).toEqual({});
    // Both are in the OpenAPI document, with their schemas and the bearer requirement.
    const doc = (await (await fetch(`${f.controller.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>>;
    };
    for (const route of ['/api/apps/{app}/scale', '/api/apps/{app}/restart']) {
      expect(doc.paths[route]?.post?.tags).toEqual(['operations']);
      expect(doc.paths[route]?.post?.security).toBeDefined();
    }
    const usage = await cli(['scale', app, 'clock=1']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('clock is not a process of this app; it declares web');
  });

  it('scales 2→5→1 under steady load: 0 failed requests, each count reached, no instance replaced', async () => {
    const load = startFixedRate(await url(), 20);
    const two = await reached(2);

    const up = await cli(['scale', app, 'web=5']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^scaled web=5 on \S+\/production: release v2, rollout r-/m);
    const five = await reached(5);
    // The two that served before serve on: a scale up only adds instances.
    for (const id of two) expect(five).toContain(id);

    const down = await cli(['scale', app, 'web=1', '--env', 'production']);
    expect(down.code, down.stderr).toBe(0);
    const one = await reached(1);
    expect(five).toContain(one[0]);

    const { total, failures } = await load.stop();
    console.log(`scale 2→5→1: ${total} GETs through the edge`);
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(20);

    // Each scale is a release that shares the instances of the one it scaled.
    const rels = await releases();
    expect(rels.map((r) => [r.line, r.instancesOf, r.config.scale])).toEqual([
      ['v3: scale web=1 by ci', 1, { web: 1 }],
      ['v2: scale web=5 by ci', 1, { web: 5 }],
      [expect.stringMatching(/^v1: deploy [0-9a-f]{12} by /), undefined, undefined],
    ]);
    const cfg = await api<{ scale: Record<string, { replicas: number; by: string }> }>(
      f.client,
      `/api/apps/${app}/config`,
    );
    expect(cfg.scale).toEqual({ web: expect.objectContaining({ replicas: 1, by: 'ci' }) });
    const history = await cli(['history', app], f.client);
    expect(history.stdout).toMatch(/production\s+scale\s.*\sci \(scale\)\s/);
  }, 600_000);

  it('a rollback to the release from before the scales restores its formation', async () => {
    const back = await post<{ rolloutId: string }>('/rollback', { env: 'production', to: 'v1' });
    expect((await rolloutEnded(f, back.rolloutId)).outcome).toBe('succeeded');
    const cfg = await api<{ scale: object }>(f.client, `/api/apps/${app}/config`);
    expect(cfg.scale).toEqual({});
    const [newest] = await releases();
    expect(newest).toMatchObject({ line: 'v4: rollback to v1 by ci', instancesOf: 1 });
    expect(newest?.config.scale).toBeUndefined();
    // The spec's replicas again.
    await reached(2);
  }, 300_000);

  it('restarts under steady load: 0 failed requests, every instance replaced', async () => {
    const before = await reached(2);
    const load = startFixedRate(await url(), 20);
    const res = await cli(['restart', app]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      /^restarting every process of \S+\/production \(release v4\): rollout r-/m,
    );
    const after = await reached(2);
    for (const id of before) expect(after).not.toContain(id);
    const { total, failures } = await load.stop();
    console.log(`restart: ${total} GETs through the edge`);
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(20);

    // Recorded with who restarted, as a restart; no new release.
    const rec = (await f.controller.rollouts.list(app, 'production'))[0];
    expect(rec?.trigger).toEqual({ kind: 'manual', actor: 'ci', via: 'restart' });
    expect(rec?.to.release).toBe(4);
    expect((await releases()).length).toBe(4);
    const history = await cli(['history', app], f.client);
    expect(history.stdout).toMatch(/production\s+restart\s.*\sci \(restart\)\s/);
    await cli(['restart', app, '--process', 'web', '--no-wait']);
  }, 600_000);
});
