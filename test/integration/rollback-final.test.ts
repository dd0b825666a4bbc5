import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { api } from '../../src/cli/client.js';
import { enqueueRollout } from '../../src/deploy/enqueue.js';
import type { EnvEventRecord } from '../../src/store/records.js';
import {
  appName,
  closeWithInstances,
  finishedBuild,
  finishedRollout,
  pushPageBuilt,
  startAppFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

/**
 * A rollback is final until a newer push, against a real controller, Docker, Caddy, registry and
 * git over HTTP: a push whose build is still under way when a rollback is asked never rolls out
 * after it, and is recorded as held by the pin; a push after the rollback moves on and unpins.
 * The steps build on each other, in order.
 */
describe('a rollback is final until a newer push', () => {
  let f: Fixture;
  const app = appName('final');
  const env = 'production';
  const shas: Record<string, string> = {};
  const short = (s: string | undefined) => (s ?? '').slice(0, 12);
  const envState = () => f.controller.rollouts.env(app, env);
  const timeline = async () =>
    (
      await api<{ events: EnvEventRecord[] }>(
        f.client,
        `/api/apps/${app}/timeline?env=${env}&limit=50`,
      )
    ).events;

  async function deployVersion(name: string): Promise<string> {
    const sha = await pushPageBuilt(f, app, `<h1>${name}</h1>\n`, name);
    expect((await finishedRollout(f, app, sha, env)).outcome).toBe('succeeded');
    shas[name] = sha;
    return sha;
  }

  beforeAll(async () => {
    f = await startAppFixture(app);
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('deploys v1, then v2', async () => {
    await deployVersion('v1');
    await deployVersion('v2');
    expect((await envState()).current?.sha).toBe(shas.v2);
  });

  it("holds v3, pushed before the rollback and built after it, by the rollback's pin", async () => {
    const { redis, keys } = f.controller.store;
    // The build of v3 cannot start while this holds the app's build lease (the builder waits
    // for it and looks again): v3 is still to be built when the rollback is asked and ends.
    const lease = keys.buildLease(app);
    expect(await redis.set(lease, 'rollback-final-test', 'PX', 120_000, 'NX')).toBe('OK');
    try {
      await f.wt.write('www/index.html', '<h1>v3</h1>\n');
      const v3 = await f.push('github', 'v3');
      shas.v3 = v3;
      const seen = await waitFor('v3 to be seen and its build queued', async () => {
        const rev = await f.controller.store.getRevision(app, v3);
        const builds = await f.controller.store.listBuilds(app);
        return rev && builds.some((b) => b.sha === v3) ? rev : undefined;
      });
      expect(seen.image).toBeUndefined();

      const res = await fetch(`${f.controller.url}/api/apps/${app}/rollback`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${f.deployer.token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ env }),
      });
      expect(res.status).toBe(202);
      const asked = (await res.json()) as { rolloutId: string; from: string; to: string };
      expect(asked).toMatchObject({ from: shas.v2, to: shas.v1 });
      const rollback = await waitFor('the rollback to end', async () => {
        const r = await f.controller.rollouts.get(asked.rolloutId);
        return r?.outcome ? r : undefined;
      });
      expect(rollback.outcome).toBe('succeeded');
      const pin = await waitFor('the pin', async () => (await envState()).pin ?? undefined);
      expect(pin).toMatchObject({ sha: shas.v1, by: 'ci', excluded: [shas.v2] });
      // "Pushed before" is when Gantry first saw the commit, against when the rollback was asked.
      expect(Date.parse(seen.firstSeenAt)).toBeLessThan(Date.parse(pin.askedAt!));
      const builds = await f.controller.store.listBuilds(app);
      expect(builds.find((b) => b.sha === v3)?.status).toBe('queued');
    } finally {
      await redis.del(lease);
    }

    // Now v3's build runs and finishes; the rollback's pin holds its rollout.
    expect((await finishedBuild(f, app, shas.v3!)).status).toBe('succeeded');
    const held = await waitFor('the hold in the timeline', async () =>
      (await timeline()).find((e) => e.kind === 'skipped' && e.text.includes(short(shas.v3))),
    );
    expect(held.text).toContain(`pushed before the rollback to ${short(shas.v1)}`);
    expect(held.text).toContain('until a newer push, a deploy or an unpin');
    // Give a wrongly queued rollout the time to show itself (the bug undid the rollback in 0.4 s).
    await new Promise((r) => setTimeout(r, 2000));
    const rollouts = await f.controller.rollouts.list(app, env);
    expect(rollouts.filter((r) => r.to.sha === shas.v3)).toEqual([]);
    const state = await envState();
    expect(state.current?.sha).toBe(shas.v1);
    expect(state.pin?.sha).toBe(shas.v1);
    const instances = await f.controller.runtime!.list({ app, env });
    expect(instances.map((i) => i.revision)).toEqual([shas.v1]);
  });

  it('holds a deploy of v3 already queued when the pin comes: it ends superseded, saying why', async () => {
    // What a build finishing in the very instant the rollback was asked leaves behind.
    const rolloutId = await enqueueRollout(
      {
        store: f.controller.store,
        rollouts: f.controller.rollouts,
        queues: f.controller.queues,
        log: pino({ level: 'silent' }),
      },
      { app, env, sha: shas.v3!, kind: 'deploy', trigger: { kind: 'poll' } },
    );
    const rec = await waitFor('the held rollout to end', async () => {
      const r = await f.controller.rollouts.get(rolloutId);
      return r?.outcome ? r : undefined;
    });
    expect(rec).toMatchObject({
      outcome: 'superseded',
      to: { sha: shas.v3 },
      from: { sha: shas.v1 },
    });
    expect(rec.plan).toBeUndefined();
    expect(rec.reason).toContain(`pushed before the rollback to ${short(shas.v1)}`);
    // The history lists it with its why, like any rollout.
    const history = await api<{ rollouts: { id: string; outcome: string; reason: string }[] }>(
      f.client,
      `/api/apps/${app}/rollouts?env=${env}`,
    );
    expect(history.rollouts.find((r) => r.id === rolloutId)).toMatchObject({
      outcome: 'superseded',
      reason: rec.reason,
    });
    expect((await envState()).current?.sha).toBe(shas.v1);
    expect((await f.controller.runtime!.list({ app, env })).map((i) => i.revision)).toEqual([
      shas.v1,
    ]);
  });

  it('deploys v4, pushed after the rollback, and unpins', async () => {
    const v4 = await deployVersion('v4');
    const state = await envState();
    expect(state.current?.sha).toBe(v4);
    expect(state.pin).toBeNull();
    expect((await timeline()).some((e) => e.kind === 'skipped' && e.text.includes(short(v4)))).toBe(
      false,
    );
  });
});
