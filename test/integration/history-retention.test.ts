import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedHistory } from '../support/history-seed.js';
import { RetentionSweeper } from '../../src/history/retention.js';
import { startApiController, type ApiController } from '../support/api-controller.js';

const DAY = 24 * 60 * 60 * 1000;

describe('history retention sweep against Redis', () => {
  let api: ApiController;

  beforeAll(async () => {
    api = await startApiController();
  });
  afterAll(async () => {
    await api?.close();
  });

  async function keysOf(ids: string[]) {
    const { redis, store } = api.controller;
    const k = store.keys;
    return Promise.all(
      ids.map(async (id) => ({
        record: await redis.exists(k.rollout(id)),
        events: await redis.exists(k.rolloutEvents(id)),
      })),
    );
  }

  it('removes what is past keepPerEnvironment, with events and index entries, never the current one', async () => {
    const { controller } = api;
    const app = 'keepn';
    // 40 records, 20 per environment; only the oldest production rollout succeeded, so it is
    // current and must survive however far down the list it is.
    const { records } = await seedHistory(controller.store, controller.rollouts, {
      app,
      envs: ['production', 'staging'],
      count: 40,
      setCurrent: false,
    });
    const oldest = records[0]!;
    await controller.rollouts.updateEnv(app, 'production', {
      current: { ...oldest.to, rolloutId: oldest.id, since: oldest.finishedAt! },
    });
    for (const r of records) {
      await controller.rollouts.appendEvents(r, [{ at: 1, kind: 'created', text: 'x' }]);
    }
    const sweeper = new RetentionSweeper(
      controller.redis,
      controller.store.keys,
      controller.rollouts,
      {
        keepDays: 90,
        keepPerEnvironment: 5,
      },
    );
    const removed = await sweeper.sweepApp(app);
    expect(removed).toBe(40 - 10 - 1);

    const newestFirst = [...records].reverse();
    const kept = [
      ...newestFirst.filter((r) => r.env === 'production').slice(0, 5),
      ...newestFirst.filter((r) => r.env === 'staging').slice(0, 5),
      oldest,
    ].map((r) => r.id);
    const gone = records.map((r) => r.id).filter((id) => !kept.includes(id));
    expect((await keysOf(kept)).every((k) => k.record === 1 && k.events === 1)).toBe(true);
    expect((await keysOf(gone)).every((k) => k.record === 0 && k.events === 0)).toBe(true);

    const k = controller.store.keys;
    const r = controller.redis;
    expect((await r.zrange(k.appRollouts(app), '0', '-1')).sort()).toEqual([...kept].sort());
    expect(await r.zcard(k.rollouts(app, 'production'))).toBe(6);
    for (const id of gone) {
      const rec = records.find((x) => x.id === id)!;
      expect(await r.zscore(k.rolloutsBySha(app, rec.to.sha), id)).toBeNull();
      if (rec.pr) expect(await r.zscore(k.rolloutsByPr(app, rec.pr.number), id)).toBeNull();
    }
    // The history API sees the same: five per environment plus the current one.
    const res = await api.get(`/api/history?app=${app}&limit=100`);
    const body = (await res.json()) as { rollouts: { id: string; running: boolean }[] };
    expect(body.rollouts.map((x) => x.id).sort()).toEqual([...kept].sort());
    expect(body.rollouts.find((x) => x.id === oldest.id)?.running).toBe(true);

    // A second sweep finds nothing more to do.
    expect(await sweeper.sweepApp(app)).toBe(0);
  });

  it('removes records older than keepDays, and keeps a rollout that has not ended', async () => {
    const { controller } = api;
    const app = 'keepdays';
    const now = Date.now();
    const { records } = await seedHistory(controller.store, controller.rollouts, {
      app,
      envs: ['production'],
      count: 10,
      setCurrent: false,
      // Newest record 5 days ago, one minute apart.
      now: now - 5 * DAY,
    });
    const unfinished = { ...records[0]!, outcome: undefined, finishedAt: undefined };
    await controller.rollouts.put(unfinished);
    const fresh = await seedHistory(controller.store, controller.rollouts, {
      app,
      envs: ['production'],
      count: 2,
      setCurrent: false,
      now,
    });
    const sweeper = new RetentionSweeper(
      controller.redis,
      controller.store.keys,
      controller.rollouts,
      {
        keepDays: 3,
        keepPerEnvironment: 1000,
      },
    );
    expect(await sweeper.sweep(now)).toBe(9);
    const left = await controller.redis.zrange(controller.store.keys.appRollouts(app), '0', '-1');
    expect(left.sort()).toEqual([unfinished.id, ...fresh.records.map((r) => r.id)].sort());
  });

  it('ages out finished builds with their logs and unused old revisions with their image records', async () => {
    const { controller } = api;
    const { store, redis } = controller;
    const k = store.keys;
    const now = Date.now();
    const app = 'records';
    // Old history whose current rollout (and the revision it came from) must stay.
    const { records } = await seedHistory(store, controller.rollouts, {
      app,
      envs: ['production'],
      count: 4,
      now: now - 100 * DAY,
    });
    const revision = async (sha: string, daysAgo: number) => {
      const commit = { ...records[0]!.commit!, sha };
      const firstSeenAt = new Date(now - daysAgo * DAY).toISOString();
      await store.addRevision({ app, sha, repo: 'app', branch: 'main', commit, firstSeenAt });
      const image = {
        tag: `r/${app}:${sha.slice(0, 12)}`,
        digest: `sha256:${sha}`,
        pinned: `r/${app}@sha256:${sha}`,
      };
      await store.setRevisionImage(app, sha, image, 'b');
    };
    const unused = 'a'.repeat(40);
    const fresh = 'b'.repeat(40);
    await revision(unused, 100);
    await revision(fresh, 1);
    const build = async (id: string, daysAgo: number, status: 'succeeded' | 'running') => {
      const createdAt = new Date(now - daysAgo * DAY).toISOString();
      await store.putBuild({
        id,
        app,
        sha: fresh,
        repo: 'app',
        branch: 'main',
        trigger: { kind: 'poll' },
        status,
        createdAt,
        attempts: 1,
      });
      await store.appendBuildLog(id, [`log of ${id}`], 100);
    };
    await build('b-old', 100, 'succeeded');
    await build('b-old-running', 100, 'running');
    for (const d of [3, 2, 1]) await build(`b-new-${d}`, d, 'succeeded');

    const sweeper = new RetentionSweeper(redis, k, controller.rollouts, {
      keepDays: 30,
      keepPerEnvironment: 1000,
      keepBuildsPerApp: 2,
    });
    await sweeper.sweep(now);
    // The old finished build and the third newest go; a build still running waits to finish.
    expect(await sweeper.sweepRecords(now)).toBe(2 + 1);
    const builds = (await redis.zrange(k.builds(app), '0', '-1')).sort();
    expect(builds).toEqual(['b-new-1', 'b-new-2', 'b-old-running']);
    expect(await redis.exists(k.build('b-old'), k.buildLog('b-old'), k.buildLog('b-new-3'))).toBe(
      0,
    );
    expect(await redis.exists(k.buildLog('b-new-1'))).toBe(1);
    // The unused old revision is gone with its image record; what the history still names stays.
    expect(await store.getRevision(app, unused)).toBeUndefined();
    expect(await redis.exists(k.revisionImage(app, unused))).toBe(0);
    expect((await store.getRevision(app, fresh))?.image).toBeDefined();
    const current = (await controller.rollouts.env(app, 'production')).current!;
    expect(await store.getRevision(app, current.sha)).toBeDefined();
    expect(await redis.zscore(k.revisions(app), unused)).toBeNull();
  });

  it('forgets a removed app whole once its record is older than keepDays, and no other', async () => {
    const { controller } = api;
    const { store, redis, rollouts } = controller;
    const k = store.keys;
    const now = Date.now();
    const seedApp = async (app: string, repo: string) => {
      await seedHistory(store, rollouts, {
        app,
        envs: ['production'],
        count: 4,
        now: now - 100 * DAY,
      });
      const rec = (await store.getApp(app))!;
      await store.putApp({ ...rec, repo, updatedAt: new Date(now - 100 * DAY).toISOString() });
      const id = `b-${app}`;
      const at = new Date(now - 100 * DAY).toISOString();
      await store.putBuild({
        id,
        app,
        sha: 'c'.repeat(40),
        repo,
        branch: 'main',
        trigger: { kind: 'poll' },
        status: 'succeeded',
        createdAt: at,
        attempts: 1,
      });
      await store.appendBuildLog(id, ['x'], 10);
      await redis.hset(k.configVars(app, 'production'), 'LOG_LEVEL', 'debug');
      await redis.set(k.release(app, 'production', 1), '{}');
    };
    await seedApp('gone', 'old-repo');
    await seedApp('gone-but-deployed', 'old-repo');
    await seedApp('followed', 'app');
    // `gone` was pruned (nothing of it is deployed); the other removed app still serves.
    await rollouts.forgetEnv('gone', 'production');
    const rolloutIds = await redis.zrange(k.appRollouts('gone'), '0', '-1');

    const sweeper = new RetentionSweeper(
      redis,
      k,
      rollouts,
      { keepDays: 30, keepPerEnvironment: 1000 },
      () => ['app'],
    );
    await sweeper.sweepRecords(now);
    const left = async (app: string) => {
      const keys: string[] = [];
      for (const pattern of k.appKeyPatterns(app)) {
        keys.push(...(await redis.keys(pattern)));
      }
      return keys;
    };
    expect(await left('gone')).toEqual([]);
    expect(await redis.sismember(k.apps(), 'gone')).toBe(0);
    expect(await redis.exists(k.build('b-gone'), k.buildLog('b-gone'))).toBe(0);
    expect(await redis.exists(...rolloutIds.map((id) => k.rollout(id)))).toBe(0);
    expect(Object.values(await redis.hgetall(k.appByPath()))).not.toContain('gone');
    for (const app of ['gone-but-deployed', 'followed']) {
      expect(await store.getApp(app)).toBeDefined();
      expect(await redis.hget(k.configVars(app, 'production'), 'LOG_LEVEL')).toBe('debug');
    }
  });
});
