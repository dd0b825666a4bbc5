import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedHistory, type SeededHistory } from '../support/history-seed.js';
import type { RolloutRecord } from '../../src/store/records.js';
import { startApiController, type ApiController } from '../support/api-controller.js';

interface Entry extends Omit<RolloutRecord, 'commit'> {
  phase: string;
  running: boolean;
  durationMs?: number;
  commit: { sha: string; message: string; author: string; prNumber?: number; prTitle?: string };
}
interface Page {
  rollouts: Entry[];
  next?: string;
}

describe('GET /api/history against Redis', () => {
  let api: ApiController;
  let seeded: SeededHistory;
  const app = 'shop';

  async function page(query: string): Promise<Page> {
    const res = await api.get(`/api/history?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Page;
  }

  /** The ids of every page of `query`, following the cursor until there is no `next`. */
  async function allIds(query: string): Promise<string[]> {
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const p = await page(`${query}${next ? `&before=${next}` : ''}`);
      seen.push(...p.rollouts.map((r) => r.id));
      next = p.next;
    } while (next);
    return seen;
  }

  beforeAll(async () => {
    api = await startApiController();
    seeded = await seedHistory(api.controller.store, api.controller.rollouts, {
      app,
      envs: ['production', 'staging'],
      count: 120,
      prEvery: 4,
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('lists an app newest first, one environment, or what one PR shipped and where', async () => {
    const all = await page(`app=${app}&limit=10`);
    const newest = [...seeded.records].reverse();
    expect(all.rollouts.map((r) => r.id)).toEqual(newest.slice(0, 10).map((r) => r.id));
    expect(all.next).toBeDefined();

    const staging = await page(`app=${app}&env=staging&limit=200`);
    expect(staging.rollouts.map((r) => r.id)).toEqual(
      newest.filter((r) => r.env === 'staging').map((r) => r.id),
    );
    expect(staging.next).toBeUndefined();

    // PR #5 is commit 4 (every 4th commit landed a PR): rollouts 8 and 9, one per environment.
    const pr = await page(`app=${app}&pr=5`);
    expect(pr.rollouts.map((r) => r.id)).toEqual([seeded.records[9]!.id, seeded.records[8]!.id]);
    expect(pr.rollouts.map((r) => r.env).sort()).toEqual(['production', 'staging']);
    for (const r of pr.rollouts) {
      expect(r.commit).toMatchObject({
        sha: seeded.commits[4]!.sha,
        message: 'Merge pull request #5 from acme/feature-5',
        author: 'Dev 4',
        prNumber: 5,
        prTitle: 'Feature 5: make the thing faster',
      });
      expect(r.durationMs).toBe(42_000);
      expect(r.trigger).toBeDefined();
      expect(r.phase).toBeTypeOf('string');
    }
    expect((await page(`app=${app}&pr=5&env=staging`)).rollouts.map((r) => r.env)).toEqual([
      'staging',
    ]);
    expect((await page(`app=${app}&pr=999`)).rollouts).toEqual([]);
  });

  it('finds rollouts by commit, full or abbreviated', async () => {
    const sha = seeded.commits[10]!.sha;
    const full = await page(`app=${app}&sha=${sha}`);
    expect(full.rollouts).toHaveLength(2);
    expect(full.rollouts.every((r) => r.to.sha === sha)).toBe(true);
    expect((await page(`app=${app}&sha=${sha.slice(0, 10)}`)).rollouts.map((r) => r.id)).toEqual(
      full.rollouts.map((r) => r.id),
    );
    expect((await page(`app=${app}&sha=abcdef0`)).rollouts).toEqual([]);
  });

  it('says which rollout is still running: succeeded, and its revision serves the environment', async () => {
    const { rollouts } = await page(`app=${app}&limit=200`);
    for (const env of ['production', 'staging']) {
      const current = (await api.controller.rollouts.env(app, env)).current!;
      const running = rollouts.filter((r) => r.env === env && r.running);
      expect(running.length).toBeGreaterThan(0);
      expect(running.every((r) => r.outcome === 'succeeded' && r.to.sha === current.sha)).toBe(
        true,
      );
      expect(running.map((r) => r.id)).toContain(current.rolloutId);
      expect(rollouts.filter((r) => r.env === env && !r.running).length).toBeGreaterThan(0);
    }
  });

  it('pages through everything with the cursor, nothing missed or repeated', async () => {
    const seen = await allIds(`app=${app}&limit=7`);
    expect(seen).toEqual([...seeded.records].reverse().map((r) => r.id));
  });

  it('keeps records apart whose creation times are equal (cursor ties)', async () => {
    const tieApp = 'ties';
    const { records } = await seedHistory(api.controller.store, api.controller.rollouts, {
      app: tieApp,
      envs: ['production'],
      count: 9,
    });
    // Rewrite three records onto the same millisecond: the index breaks the tie by id.
    const at = records[4]!.createdAt;
    for (const r of records.slice(3, 6)) await api.controller.rollouts.put({ ...r, createdAt: at });
    const seen = await allIds(`app=${tieApp}&limit=2`);
    expect(new Set(seen).size).toBe(9);
    expect(seen.sort()).toEqual(records.map((r) => r.id).sort());
  });

  it('answers bad questions with a clear error', async () => {
    expect((await api.get(`/api/history?app=nope`)).status).toBe(404);
    expect((await api.get(`/api/history?env=production`)).status).toBe(400);
    expect((await api.get(`/api/history?app=${app}&before=garbage`)).status).toBe(400);
    expect((await api.get(`/api/history?app=${app}&sha=xyz`)).status).toBe(400);
    expect((await api.get(`/api/history?app=${app}`, null)).status).toBe(401);
    const body = (await (await api.get(`/api/history?app=${app}&before=garbage`)).json()) as {
      code: string;
    };
    expect(body.code).toBe('GANTRY_ERR_BAD_REQUEST');
  });

  it('still answers after the controller restarts on the same Redis prefix', async () => {
    const before = await page(`app=${app}&pr=5`);
    await api.restart();
    const after = await page(`app=${app}&pr=5`);
    expect(after.rollouts.map((r) => r.id)).toEqual(before.rollouts.map((r) => r.id));
    expect(after.rollouts.map((r) => r.running)).toEqual(before.rollouts.map((r) => r.running));
  });
});
