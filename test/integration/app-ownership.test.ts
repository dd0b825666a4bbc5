import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import type { RepoConfig } from '../../src/config/controller-config.js';
import { claimApp } from '../../src/source/ownership.js';
import { RepoRegistry } from '../../src/source/repos.js';
import { Store } from '../../src/store/store.js';
import type { AppRecord, BuildRecord, Revision } from '../../src/store/records.js';
import {
  appName,
  closeWithInstances,
  EXAMPLE,
  exampleSpec,
  finishedBuild,
  finishedRollout,
  pushBuilt,
  startFixture,
  waitFor,
  type Fixture,
  type SecondRepo,
} from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';

type AppDetail = { app: AppRecord; revisions: Revision[]; builds: BuildRecord[] };

describe('app ownership: a name belongs to the repo folder that claimed it first', () => {
  let f: Fixture;
  let other: SecondRepo;
  const app = appName('own');

  beforeAll(async () => {
    f = await startFixture({ deploy: true, secondRepo: true });
    other = f.second!;
    await f.wt.write('gantry.yaml', await exampleSpec(app));
    await other.wt.copyFrom(EXAMPLE);
    await other.wt.write('gantry.yaml', await exampleSpec(app));
    await other.wt.write('www/index.html', '<h1>impostor</h1>\n');
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('refuses another repo naming the app before building, and nothing of the app changes', async () => {
    await f.wt.write('www/index.html', '<h1>owner</h1>\n');
    const good = await pushBuilt(f, app, 'Owner deploys');
    expect((await finishedRollout(f, app, good)).outcome).toBe('succeeded');

    const before = await api<AppDetail>(f.client, `/api/apps/${app}`);
    const envBefore = await f.controller.rollouts.env(app, 'production');
    const instancesBefore = await f.controller.runtime!.list({ app });
    expect(envBefore.current?.sha).toBe(good);
    const owner = await api<{ owner: { repo: string; path: string } }>(
      f.client,
      `/api/apps/${app}/owner`,
    );
    expect(owner.owner).toMatchObject({ repo: 'app', path: '.' });

    const taken = await other.push('github', 'Impostor claims the name');
    const refused = await finishedBuild(f, app, taken);
    expect(refused).toMatchObject({ status: 'failed', repo: 'other', attempts: 0 });
    expect(refused.failure?.code).toBe('GANTRY_ERR_APP_OWNED');
    expect(refused.failure?.message).toContain('belongs to repo app, folder .');
    expect(refused.failure?.message).toContain(`gantry apps:release ${app}`);
    expect(refused.startedAt).toBeUndefined();

    const after = await api<AppDetail>(f.client, `/api/apps/${app}`);
    expect(after.app).toEqual(before.app);
    expect(after.revisions.map((r) => r.sha)).toEqual(before.revisions.map((r) => r.sha));
    expect(after.revisions.some((r) => r.sha === taken)).toBe(false);
    const envAfter = await f.controller.rollouts.env(app, 'production');
    expect(envAfter.current).toEqual(envBefore.current);
    expect(envAfter.route).toEqual(envBefore.route);
    expect((await f.controller.rollouts.list(app, 'production')).map((r) => r.to.sha)).toEqual([
      good,
    ]);
    const instancesAfter = await f.controller.runtime!.list({ app });
    expect(instancesAfter.map((i) => i.id).sort()).toEqual(instancesBefore.map((i) => i.id).sort());
    expect(await (await fetch(envAfter.route!.url)).text()).toContain('owner');
    expect(after.builds.filter((b) => b.sha === taken)).toHaveLength(1);
  });

  it('only an admin releases the name; the other repo then claims it', async () => {
    for (const who of [f.client, f.deployer]) {
      await expect(api(who, `/api/apps/${app}/owner`, { method: 'DELETE' })).rejects.toThrow(/403/);
    }
    const owner = await api<{ owner: { repo: string } }>(f.client, `/api/apps/${app}/owner`);
    expect(owner.owner.repo).toBe('app');

    const released = await api<{ released: { repo: string; path: string } }>(
      f.admin,
      `/api/apps/${app}/owner`,
      { method: 'DELETE' },
    );
    expect(released.released).toMatchObject({ repo: 'app', path: '.' });

    const claimed = await other.push('github', 'Other repo claims the released name');
    const build = await finishedBuild(f, app, claimed);
    expect(build.status, build.failure?.message).toBe('succeeded');
    const now = await waitFor('the new owner', async () => {
      const res = await api<{ owner: { repo: string } }>(f.client, `/api/apps/${app}/owner`);
      return res.owner.repo === 'other' ? res.owner : undefined;
    });
    expect(now).toMatchObject({ repo: 'other', path: '.' });
    expect((await finishedRollout(f, app, claimed)).outcome).toBe('succeeded');
  });
});

describe('app ownership in Redis: claims, upgrades, releases, config', () => {
  let redis: Redis;
  let store: Store;
  const a = { repo: 'a', path: '.' };
  const b = { repo: 'b', path: 'svc' };
  const repo = (name: string, owns: RepoConfig['owns'] = []): RepoConfig => ({
    name,
    url: `http://127.0.0.1:1/${name}.git`,
    branches: ['main'],
    apps: ['.', 'svc'],
    owns,
    pollIntervalSeconds: 0,
  });
  const noConfig = new RepoRegistry([repo('a'), repo('b')], '/nonexistent');

  beforeAll(() => {
    redis = new Redis(testEnv().redisUrl);
    store = new Store(redis, uniqueName('own'));
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('gives a name to the first claimant, atomically, whoever races for it', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.claimApp('race', { repo: `r${i % 2}`, path: String(i) }),
      ),
    );
    expect(new Set(results.map((o) => `${o.repo}:${o.path}`)).size).toBe(1);
    expect(await claimApp(store, noConfig, 'x', a)).toEqual({ ok: true });
    expect(await claimApp(store, noConfig, 'x', b)).toMatchObject({ ok: false, owner: a });
    // Another folder of the owner's own repo is someone else too.
    expect(await claimApp(store, noConfig, 'x', { repo: 'a', path: 'svc' })).toMatchObject({
      ok: false,
    });
  });

  it('upgrades an app recorded before ownership to its recorded repo folder', async () => {
    await store.putApp({
      name: 'old',
      repo: 'b',
      path: 'svc',
      branches: ['main'],
      environments: {},
      updatedAt: new Date().toISOString(),
    });
    expect(await claimApp(store, noConfig, 'old', a)).toMatchObject({
      ok: false,
      owner: { ...b, source: 'record' },
    });
    expect(await claimApp(store, noConfig, 'old', b)).toEqual({ ok: true });
  });

  it('after a release, the next claimant wins even over the old app record', async () => {
    expect(await store.releaseApp('old')).toMatchObject(b);
    expect(await store.getAppOwner('old')).toBeUndefined();
    expect(await claimApp(store, noConfig, 'old', a)).toEqual({ ok: true });
    expect(await store.getAppOwner('old')).toMatchObject({ ...a, source: 'claim' });
    expect(await store.releaseApp('never-seen')).toBeUndefined();
  });

  it('lets the controller config override the first claim, and writes it through', async () => {
    await store.claimApp('cfg', a);
    const configured = new RepoRegistry(
      [repo('a'), repo('b', [{ app: 'cfg', path: 'svc' }])],
      '/nonexistent',
    );
    expect(await claimApp(store, configured, 'cfg', a)).toMatchObject({
      ok: false,
      owner: { ...b, source: 'config' },
    });
    expect(await claimApp(store, configured, 'cfg', b)).toEqual({ ok: true });
    // The entry removed from the config later, the name stays with the repo it named.
    expect(await claimApp(store, noConfig, 'cfg', a)).toMatchObject({ ok: false, owner: b });
  });
});
