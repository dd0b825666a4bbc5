/**
 * Traffic never depends on the controller process: the edge runs apart from it and is adopted by
 * the next one, which reconciles routes and instances. And two controllers on one Redis repair an
 * environment once, not twice. Real controller processes (SIGTERM, kill -9), Docker, Caddy, Redis.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appName, waitFor } from '../support/controller-fixture.js';
import { startFixedRate } from '../support/fixed-rate.js';
import { startRig, type Rig } from '../support/controller-process.js';

const run = promisify(execFile);

describe('controller restarts and two controllers, with the edge apart from the controller', () => {
  let rig: Rig;
  let sha = '';
  let url = '';

  beforeAll(async () => {
    rig = await startRig({
      app: appName('restart'),
      edge: 'managed',
      spec: (y) => y.replace('replicas: 3', 'replicas: 2') + '', // two replicas keep the rig light; self-heal is on by default
    });
    const c1 = await rig.start('c1');
    sha = await rig.push(c1, 'First revision');
    expect((await rig.built(sha)).status).toBe('succeeded');
    expect((await rig.rolledOut(sha)).outcome).toBe('succeeded');
    url = (await rig.rollouts.env(rig.app, rig.env)).route!.url;
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('(a) 0 failed requests at a fixed rate while the controller is stopped (SIGTERM) and restarted, then killed (kill -9) and restarted', async () => {
    const load = startFixedRate(url, 25);
    await sleep(1500);
    // An upgrade: the old controller stops gracefully, the new one starts on the same data.
    await rig.processes[0]!.stop();
    await sleep(2000);
    const c2 = await rig.start('c2');
    await sleep(3000);
    // A crash: kill -9 of the controller's whole process group.
    await c2.kill();
    await sleep(2000);
    const c3 = await rig.start('c3');
    await sleep(3000);
    const { total, failures } = await load.stop();
    console.log(
      `(a) ${total} GETs, ${failures.length} failed across a SIGTERM and a kill -9 restart`,
    );
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(200);
    // The new controller adopted the edge and holds the environment.
    const status = await waitFor(
      'the restarted controller to report the environment healthy',
      async () => {
        const s = await rig.rollouts.status(rig.app, rig.env);
        return s?.health.status === 'healthy' && Date.parse(s.observedAt) > Date.now() - 30_000
          ? s
          : undefined;
      },
    );
    expect(status.instances.filter((i) => i.verdict === 'healthy' && i.routed)).toHaveLength(2);
    expect(c3.exited()).toBe(false);
  });

  it('(h) two controllers on one Redis: a removed instance is replaced once', async () => {
    await rig.start('c4');
    const before = (await rig.instances()).filter((i) => i.state === 'running');
    expect(before).toHaveLength(2);
    const victim = before[0]!;
    const seen = (await rig.rollouts.envEvents(rig.app, rig.env)).length;
    await run('docker', ['rm', '-f', victim.id]);
    await waitFor(
      'two running instances again',
      async () => {
        const now = (await rig.instances()).filter(
          (i) => i.state === 'running' && i.revision === sha,
        );
        return now.length === 2 && !now.some((i) => i.id === victim.id) ? now : undefined;
      },
      60_000,
    );
    // Give a second controller every chance to repair it again.
    await sleep(4000);
    const all = await rig.instances();
    expect(all.filter((i) => i.state === 'running')).toHaveLength(2);
    // One start for the one missing instance: "replaced" when its owner had seen it, "started"
    // when ownership had just passed to a controller that never saw it.
    const starts = (await rig.rollouts.envEvents(rig.app, rig.env))
      .slice(seen)
      .filter((e) => e.kind === 'self-heal' && /self-heal: (replaced|started) /.test(e.text));
    expect(starts.map((e) => e.text)).toHaveLength(1);
  });
});
