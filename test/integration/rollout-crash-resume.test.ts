/**
 * A controller killed with SIGKILL in the middle of a rollout: another process picks the rollout
 * up from its persisted state and what Docker reports, and finishes it — same rollout, no second
 * start of a slot, no container left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutState } from '../../src/rollout/index.js';
import type { RolloutRecord } from '../../src/store/records.js';
import { waitFor } from '../support/controller-fixture.js';
import {
  startRig,
  withHealthyThreshold,
  type ControllerProcess,
  type Rig,
} from '../support/controller-process.js';
import { uniqueName } from '../support/env.js';

const stateOf = (rec: RolloutRecord): RolloutState => rec.state as RolloutState;

describe('a controller killed mid-rollout (kill -9)', () => {
  let rig: Rig;
  let a: ControllerProcess;
  const app = uniqueName('crash').replace(/-/g, '');

  beforeAll(async () => {
    rig = await startRig({ app, edge: 'managed' });
    a = await rig.start('a');
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('is resumed by a restarted controller and finishes with exactly the new revision', async () => {
    await rig.wt.write('www/index.html', '<h1>first</h1>\n');
    const first = await rig.push(a, 'First revision');
    expect((await rig.built(first)).status).toBe('succeeded');
    expect((await rig.rolledOut(first)).outcome).toBe('succeeded');

    // The second revision takes ~5 s per replica to be called healthy: ~15 s of rolling.
    await rig.wt.write('www/index.html', '<h1>second</h1>\n');
    await rig.wt.write('gantry.yaml', withHealthyThreshold(rig.spec, 5));
    const second = await rig.push(a, 'Second revision, slow to become healthy');
    expect((await rig.built(second)).status).toBe('succeeded');

    // Mid-rollout: one old replica already replaced, both revisions running.
    const midway = await waitFor(
      'the second rollout to have replaced one replica',
      async () => {
        const rec = (await rig.rollouts.list(app, rig.env)).find((r) => r.to.sha === second);
        if (!rec || rec.outcome) return undefined;
        const running = (await rig.instances()).filter((i) => i.state === 'running');
        const olds = running.filter((i) => i.revision === first).length;
        const news = running.filter((i) => i.revision === second).length;
        return olds === 2 && news >= 1 ? { rec, olds, news } : undefined;
      },
      60_000,
    );
    await a.kill();
    const killedAt = Date.now();
    const atKill = (await rig.rollouts.get(midway.rec.id))!;
    expect(atKill.outcome).toBeUndefined();

    const b = await rig.start('b');
    const done = await rig.rolledOut(second, 90_000);

    // The same rollout, finished by the new process: no second record, no restart from scratch.
    expect(done.id).toBe(midway.rec.id);
    expect(done.outcome, done.reason).toBe('succeeded');
    const history = await rig.rollouts.list(app, rig.env);
    expect(history.map((r) => r.to.sha).sort()).toEqual([first, second].sort());
    expect(stateOf(done).startedAt).toBe(stateOf(atKill).startedAt);
    const events = await rig.rollouts.events(done.id);
    expect(events.filter((e) => e.kind === 'created')).toHaveLength(1);
    const resumed = events.filter((e) => e.kind === 'resumed');
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.at).toBeGreaterThan(killedAt);
    expect(events.some((e) => e.at < killedAt)).toBe(true);
    expect(events.some((e) => e.at > killedAt && e.kind === 'finished')).toBe(true);
    // BullMQ saw the job stall (its worker died holding it) and handed it to the new process.
    // The record is closed just before the job completes: wait for the job.
    const job = await waitFor('the rollout job completed', async () =>
      (await rig.queues.rollouts.getJobs(['completed'])).find((j) => j.data.rolloutId === done.id),
    );
    expect(job.stalledCounter).toBeGreaterThanOrEqual(1);

    // Exactly the new revision runs, three times, and nothing else of the app exists.
    const all = await rig.runtime.list({ app });
    expect(all.filter((i) => i.state === 'running' && i.revision === second)).toHaveLength(3);
    expect(all.filter((i) => i.revision !== second)).toEqual([]);
    // No orphan: every container is one the finished rollout accounts for, and vice versa.
    const tracked = stateOf(done).instances;
    expect(all.map((i) => i.slot).sort()).toEqual(tracked.map((t) => t.slot).sort());
    expect(tracked.every((t) => t.role === 'to' && t.retire === null)).toBe(true);
    // Only the old replicas were ever adopted (at the start): every new one was asked for, and
    // persisted as asked for, before it was started, so the new process found nothing unknown.
    const adopted = events.filter((e) => e.kind === 'instance-adopted').map((e) => e.text);
    expect(
      adopted.every((t) => t.endsWith('(from)')),
      adopted.join('; '),
    ).toBe(true);

    const envState = await rig.rollouts.env(app, rig.env);
    expect(envState.current?.sha).toBe(second);
    expect(envState.current?.rolloutId).toBe(done.id);
    expect(await (await fetch(envState.route!.url)).text()).toContain('second');

    console.log(
      `crash-resume: killed ${a.name} with ${midway.news} new + ${midway.olds} old running; ` +
        `${b.name} resumed ${done.id} ${(resumed[0]!.at - killedAt) / 1000}s after the kill and ` +
        `finished it ${(Date.parse(done.finishedAt!) - killedAt) / 1000}s after`,
    );
  }, 240_000);
});
