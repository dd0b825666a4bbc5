import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { enqueueAfterBuild } from '../../src/deploy/enqueue.js';
import { ForgeRepo } from '../../src/demo/forge.js';
import type { StoredEvent } from '../../src/events/bus.js';
import type { RolloutRecord } from '../../src/store/records.js';
import {
  appName,
  closeWithInstances,
  finishedRollout,
  pushPageBuilt,
  startAppFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

/**
 * The deploy operations end to end, against a real controller, Docker, Caddy and git: one app
 * with two environments (staging follows main; production only gets what is promoted).
 * The steps build on each other, in order, to keep the number of rollouts small.
 */
describe('deploy operations', () => {
  let f: Fixture;
  const app = appName('ops');
  const shas: Record<string, string> = {};

  async function call(
    who: 'viewer' | 'deployer' | 'nobody',
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const token = who === 'viewer' ? f.client.token : who === 'deployer' ? f.deployer.token : '';
    const res = await fetch(`${f.controller.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const list = (env = 'staging') => f.controller.rollouts.list(app, env);
  // Gives up before the test's own timeout, saying where the rollout stood and what it last did.
  const rollout = (id: string) =>
    waitFor(
      `rollout ${id} to end`,
      async () => {
        const r = await f.controller.rollouts.get(id);
        if (r?.outcome) return r;
        const tail = (await f.controller.rollouts.events(id)).slice(-5).map((e) => e.text);
        throw new Error(`${r ? 'running' : 'no record yet'}; last events: ${tail.join(' | ')}`);
      },
      50_000,
    );
  const envState = (env = 'staging') => f.controller.rollouts.env(app, env);
  async function events(pred: (e: StoredEvent) => boolean): Promise<StoredEvent[]> {
    return (await f.controller.rollouts.bus.read('0-0', { count: 10_000 })).filter(
      (e) => e.app === app && pred(e),
    );
  }

  async function pushVersion(name: string, message: string): Promise<string> {
    const sha = await pushPageBuilt(f, app, `<h1>${name}</h1>\n`, message);
    shas[name] = sha;
    return sha;
  }

  beforeAll(async () => {
    f = await startAppFixture(app, {
      lines: ['environments:', '  staging: { branch: main }', '  production: { branch: release }'],
    });
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('deploys two pushes to staging', async () => {
    const v1 = await pushVersion('v1', 'v1');
    expect((await finishedRollout(f, app, v1, 'staging')).outcome).toBe('succeeded');
    const v2 = await pushVersion('v2', 'Add the banner (#7)');
    expect((await finishedRollout(f, app, v2, 'staging')).outcome).toBe('succeeded');
    expect((await envState()).current?.sha).toBe(v2);
  });

  it('refuses writes without a token (401) or with a viewer token (403), changing nothing', async () => {
    const before = (await list()).length;
    const queued = await f.controller.queues.rollouts.getJobCounts();
    expect(
      (await call('nobody', 'POST', `/api/apps/${app}/rollback`, { env: 'staging' })).status,
    ).toBe(401);
    const viewer = await call('viewer', 'POST', `/api/apps/${app}/rollback`, { env: 'staging' });
    expect(viewer.status).toBe(403);
    expect(viewer.body.code).toBe('GANTRY_ERR_FORBIDDEN');
    for (const op of ['lock', 'unpin', 'deploy', 'promote']) {
      expect((await call('viewer', 'POST', `/api/apps/${app}/${op}`, {})).status).toBe(403);
    }
    expect((await list()).length).toBe(before);
    expect(await f.controller.queues.rollouts.getJobCounts()).toEqual(queued);
    expect((await envState()).lock).toBeNull();
  });

  it('refuses bad input with a clear error, changing nothing', async () => {
    const before = (await list()).length;
    const cases: [string, unknown, number, string][] = [
      ['deploy', { env: 'staging', ref: 'no-such-branch' }, 404, 'GANTRY_ERR_REF_UNKNOWN'],
      ['deploy', { env: 'qa', ref: 'main' }, 404, 'GANTRY_ERR_ENV_UNKNOWN'],
      [
        'lock',
        { env: 'staging', reason: 'x', until: 'tomorrow' },
        400,
        'GANTRY_ERR_LOCK_UNTIL_INVALID',
      ],
      ['rollback', { env: 'staging', to: 'abcdef12' }, 409, 'GANTRY_ERR_ROLLBACK_TARGET_INVALID'],
      ['rollback', { env: 'production' }, 404, 'GANTRY_ERR_NO_ROLLBACK_TARGET'],
    ];
    for (const [op, body, status, code] of cases) {
      const res = await call('deployer', 'POST', `/api/apps/${app}/${op}`, body);
      expect([op, res.status, res.body.code]).toEqual([op, status, code]);
    }
    const retry = await call('deployer', 'POST', '/api/rollouts/r-zz-zz/retry');
    expect(retry.status).toBe(404);
    expect((await envState()).lock).toBeNull();
    expect((await list()).length).toBe(before);
  });

  it('asks which environment when the app has several', async () => {
    const res = await call('deployer', 'POST', `/api/apps/${app}/rollback`, {});
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('GANTRY_ERR_ENV_REQUIRED');
    expect(String(res.body.message)).toContain('production, staging');
    const bare = await call('deployer', 'POST', `/api/apps/${app}/unpin`);
    expect(bare.status).toBe(400);
    expect(bare.body.code).toBe('GANTRY_ERR_ENV_REQUIRED');
  });

  it('previews a rollback: the commits and PRs it takes out of production (viewer)', async () => {
    const res = await call('viewer', 'GET', `/api/apps/${app}/rollback-preview?env=staging`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      env: 'staging',
      from: { sha: shas.v2, message: 'Add the banner (#7)', prNumber: 7 },
      to: { sha: shas.v1, message: 'v1' },
    });
    expect(res.body.removed).toEqual([
      expect.objectContaining({
        sha: shas.v2,
        prNumber: 7,
        prTitle: 'Add the banner',
        author: 'Ada Lovelace',
      }),
    ]);
  });

  it('rolls back to the previous revision, records who asked, and pins', async () => {
    const res = await call('deployer', 'POST', `/api/apps/${app}/rollback`, { env: 'staging' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ env: 'staging', from: shas.v2, to: shas.v1 });
    const rec = await rollout(String(res.body.rolloutId));
    expect(rec).toMatchObject({
      kind: 'rollback',
      outcome: 'succeeded',
      trigger: { kind: 'manual', actor: 'ci', via: 'rollback' },
      from: { sha: shas.v2 },
      to: { sha: shas.v1 },
    });
    // The recorded image went out again: no build.
    expect(rec.to.image).toBe((await f.controller.store.getRevision(app, shas.v1!))?.image?.pinned);
    const state = await envState();
    expect(state.current?.sha).toBe(shas.v1);
    expect(state.pin).toMatchObject({
      sha: shas.v1,
      by: 'ci',
      rolloutId: rec.id,
      excluded: [shas.v2],
    });
    expect(await events((e) => e.type === 'env' && e.kind === 'pinned')).toHaveLength(1);
  });

  it('never re-deploys the rolled-back commit: not on a redelivered webhook, not after a build', async () => {
    const before = (await list()).length;
    const forge = new ForgeRepo({ repoUrl: f.repoUrl, fullName: 'acme/app', secret: f.secret });
    await forge.accepted(f.controller.url, 'github', shas.v2!, 'Add the banner (#7)');
    await waitFor('the redelivery to be synced', async () => {
      const c = await f.controller.queues.sources.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
      );
      return Object.values(c).every((n) => n === 0) ? true : undefined;
    });
    // What a build of that commit finishing now would do (e.g. one queued before the rollback).
    const ids = await enqueueAfterBuild(
      {
        store: f.controller.store,
        rollouts: f.controller.rollouts,
        queues: f.controller.queues,
        log: pino({ level: 'silent' }),
      },
      { app, sha: shas.v2!, branch: 'main', trigger: { kind: 'poll' } },
    );
    expect(ids).toEqual([]);
    const skipped = await events((e) => e.type === 'env' && e.kind === 'skipped');
    expect(skipped[0]?.text).toContain(shas.v2!.slice(0, 12));
    expect((await list()).length).toBe(before);
    expect((await envState()).current?.sha).toBe(shas.v1);
  });

  it("holds a push's rollout while the environment is locked, until unlocked; the newer push unpins", async () => {
    const locked = await call('deployer', 'POST', `/api/apps/${app}/lock`, {
      env: 'staging',
      reason: 'release freeze',
      until: '2h',
    });
    expect(locked.status).toBe(200);
    expect(locked.body.lock).toMatchObject({ reason: 'release freeze', by: 'ci' });
    const v3 = await pushVersion('v3', 'v3');
    const waiting = await waitFor('the waiting-lock event', async () => {
      const [e] = await events((e) => e.type === 'rollout' && e.kind === 'waiting-lock');
      return e;
    });
    expect(waiting.text).toMatch(/^waiting: staging is locked by ci: release freeze/);
    const held = (waiting as { rolloutId: string }).rolloutId;
    // Held: nothing moved, and the event is written once however often it looks.
    const count = await f.controller.queues.rollouts.getJobCounts(
      'delayed',
      'active',
      'waiting',
      'prioritized',
    );
    expect(Object.values(count).reduce((a, b) => a + b, 0)).toBe(1);
    // Shown as pending (for history, the UI and the PR's status) until it starts.
    const pending = await f.controller.rollouts.get(held);
    expect(pending).toMatchObject({ kind: 'deploy', to: { sha: v3 }, from: { sha: shas.v1 } });
    expect([pending?.plan, pending?.outcome]).toEqual([undefined, undefined]);
    const view = await call('viewer', 'GET', `/api/rollouts/${held}`);
    expect((view.body.rollout as { phase: string }).phase).toBe('pending');
    expect((await envState()).current?.sha).toBe(shas.v1);

    expect(
      (await call('deployer', 'POST', `/api/apps/${app}/unlock`, { env: 'staging' })).status,
    ).toBe(200);
    const rec = await rollout(held);
    expect(rec).toMatchObject({ outcome: 'succeeded', to: { sha: v3 } });
    const state = await envState();
    expect(state.current?.sha).toBe(v3);
    expect(state.pin).toBeNull();
    expect(state.lock).toBeNull();
    expect(await f.controller.rollouts.events(held)).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'waiting-lock' })]),
    );
    expect(
      (await f.controller.rollouts.events(held)).filter((e) => e.kind === 'waiting-lock'),
    ).toHaveLength(1);
  });

  it('lets a rollback through a lock', async () => {
    await call('deployer', 'POST', `/api/apps/${app}/lock`, { env: 'staging', reason: 'incident' });
    const res = await call('deployer', 'POST', `/api/apps/${app}/rollback`, { env: 'staging' });
    expect(res.status).toBe(202);
    // The previous healthy revision before v3 is the earlier rollback's v1 (v2 was taken out).
    expect(res.body.to).toBe(shas.v1);
    expect((await rollout(String(res.body.rolloutId))).outcome).toBe('succeeded');
    expect((await envState()).current?.sha).toBe(shas.v1);
  });

  it('deploys a ref by API; a superseded rollout can be retried', async () => {
    // Both wait on the lock; the newer request supersedes the older.
    const a = await call('deployer', 'POST', `/api/apps/${app}/deploy`, {
      env: 'staging',
      ref: shas.v2!.slice(0, 8),
    });
    expect(a.status).toBe(202);
    expect(a.body).toMatchObject({ env: 'staging', sha: shas.v2 });
    const b = await call('deployer', 'POST', `/api/apps/${app}/deploy`, {
      env: 'staging',
      ref: shas.v3,
    });
    await call('deployer', 'POST', `/api/apps/${app}/unlock`, { env: 'staging' });
    const [ra, rb] = [
      await rollout(String(a.body.rolloutId)),
      await rollout(String(b.body.rolloutId)),
    ];
    expect(ra.outcome).toBe('superseded');
    expect(rb).toMatchObject({
      outcome: 'succeeded',
      trigger: { kind: 'manual', actor: 'ci', via: 'deploy' },
    });

    const bad = await call('deployer', 'POST', `/api/rollouts/${rb.id}/retry`);
    expect(bad.status).toBe(409);
    expect(bad.body.code).toBe('GANTRY_ERR_NOT_RETRYABLE');
    const again = await call('deployer', 'POST', `/api/rollouts/${ra.id}/retry`);
    expect(again.status).toBe(202);
    const rec = await rollout(String(again.body.rolloutId));
    expect(rec).toMatchObject({
      outcome: 'succeeded',
      kind: 'deploy',
      to: { sha: shas.v2 },
      trigger: { kind: 'manual', via: 'retry' },
    });
  });

  it('promotes the exact image staging runs to production, without a build', async () => {
    const builds = (await f.controller.store.listBuilds(app)).length;
    const empty = await call('deployer', 'POST', `/api/apps/${app}/promote`, {
      from: 'production',
      to: 'staging',
    });
    expect(empty.status).toBe(409);
    const res = await call('deployer', 'POST', `/api/apps/${app}/promote`, {
      from: 'staging',
      to: 'production',
    });
    expect(res.status).toBe(202);
    const staging = (await envState()).current!;
    expect(res.body).toMatchObject({ env: 'production', sha: staging.sha, image: staging.image });
    const rec = await rollout(String(res.body.rolloutId));
    expect(rec).toMatchObject({
      outcome: 'succeeded',
      env: 'production',
      to: { sha: staging.sha, image: staging.image },
      trigger: { via: 'promote' },
    });
    expect((await envState('production')).current?.image).toBe(staging.image);
    expect((await f.controller.store.listBuilds(app)).length).toBe(builds);
    const instances = await f.controller.runtime!.list({ app, env: 'production' });
    expect(instances.map((i) => i.revision)).toEqual([staging.sha]);
  });

  it('deploys a branch head that was never built: the build is forced and the rollout follows', async () => {
    await f.wt.write('www/index.html', '<h1>v4</h1>\n');
    const v4 = await f.push('github', 'v4', { webhook: false });
    const res = await call('deployer', 'POST', `/api/apps/${app}/deploy`, {
      env: 'staging',
      ref: 'main',
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ env: 'staging', sha: v4, buildId: expect.any(String) });
    const rec = await finishedRollout(f, app, v4, 'staging');
    expect(rec).toMatchObject({ outcome: 'succeeded', trigger: { kind: 'manual', via: 'deploy' } });
    // Only where it was asked: production did not move.
    expect((await list('production')).filter((r: RolloutRecord) => r.to.sha === v4)).toEqual([]);
  });
  it('pins after an automatic rollback; unpin hands the environment back without re-deploying the failure', async () => {
    const { rm } = await import('node:fs/promises');
    const path = await import('node:path');
    const good = (await envState()).current!.sha;
    // The broken revision serves pages but not its health check.
    await rm(path.join(f.wt.dir, 'www', 'healthz'));
    const bad = await pushVersion('bad', 'Bad revision (#9)');
    const rec = await finishedRollout(f, app, bad, 'staging');
    expect(rec.outcome).toBe('failed');
    const pinned = await waitFor('the pin', async () => (await envState()).pin ?? undefined);
    expect(pinned).toMatchObject({ sha: good, by: 'gantry', rolloutId: rec.id, excluded: [bad] });
    expect(pinned.reason).toContain('automatic rollback');

    const res = await call('deployer', 'POST', `/api/apps/${app}/unpin`, { env: 'staging' });
    expect(res.status).toBe(200);
    // The newest revision that has not failed here already runs: nothing to deploy.
    expect(res.body).toEqual({});
    expect((await envState()).pin).toBeNull();
    expect(await events((e) => e.type === 'env' && e.kind === 'unpinned')).not.toHaveLength(0);
  });
});
