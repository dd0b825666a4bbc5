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
});
