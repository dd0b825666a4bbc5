/**
 * The Docker engine restarts under the controller (issue requirement i). The only runtime host is
 * a second dockerd of this machine, restarted on its own data root: the engine stops Gantry's
 * containers on shutdown and, by their on-failure policy, starts them again on new host ports.
 * (A) with no rollout running, the reconciler routes the instances at their new ports and the
 * edge answers again, (A2) also when an old port was taken meanwhile; (B) a rollout caught by the
 * restart waits for the engine (its events and the environment's status say so), then succeeds.
 */
import { createServer, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamOf } from '../../src/deploy/observe.js';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedRollout,
  pushPageBuilt,
  pushPageDeployed,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import {
  secondDockerUnavailable,
  startSecondDocker,
  type SecondDocker,
} from '../support/second-docker.js';

const unavailable = await secondDockerUnavailable();
if (unavailable) console.log(`engine restart test skipped: ${unavailable}`);

/** The body at `url` when it answers 200, else undefined. */
async function page(url: string): Promise<string | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  const body = await res.text();
  return res.status === 200 ? body : undefined;
}

describe.skipIf(unavailable !== undefined)(
  'the Docker engine restarts under the controller',
  () => {
    let f: Fixture;
    let second: SecondDocker;
    const app = appName('engine');
    let url = '';

    /** What the engine and the reconciler said, when a wait failed. */
    const explain = async (): Promise<void> => {
      const status = await f.controller.rollouts.status(app, 'production');
      const events = await f.controller.rollouts.envEvents(app, 'production');
      console.log(
        JSON.stringify(status, null, 1),
        events.map((e) => e.text).join('\n'),
        await second.daemon.logTail(40),
      );
    };

    /** Waits for the edge to serve `text` again; on timeout, says what the engine and reconciler saw. */
    const answersAgain = (what: string, text: string): Promise<unknown> =>
      waitFor(
        what,
        async () => ((await page(url))?.includes(text) ? true : undefined),
        120_000,
      ).catch(async (e: unknown) => {
        await explain();
        throw e;
      });
    /** Waits for the reconciler to report production healthy and returns its status. */
    const healthy = () =>
      waitFor(
        'a healthy environment status',
        async () => {
          const s = await f.controller.rollouts.status(app, 'production');
          return s?.health.status === 'healthy' ? s : undefined;
        },
        60_000,
      );
    /** The production instances that run now. */
    const runningNow = async () =>
      (await f.controller.runtime!.list({ app, env: 'production' })).filter(
        (i) => i.state === 'running',
      );

    beforeAll(async () => {
      second = await startSecondDocker();
      f = await startFixture({
        deploy: true,
        config: ['runtime:', '  hosts:', `    - { name: two, endpoint: "${second.endpoint}" }`],
      });
      await f.wt.write(
        'gantry.yaml',
        (await exampleSpec(app)).replace('replicas: 3', 'replicas: 2'),
      );
      await pushPageDeployed(f, app, '<p>revision one</p>\n', 'Revision one');
      url = (await f.controller.rollouts.env(app, 'production')).route!.url;
      expect(await page(url)).toContain('revision one');
    }, 240_000);
    afterAll(async () => {
      await closeWithInstances(f, app).catch(() => undefined);
      await second?.stop();
    });

    it('(A) with no rollout running, the app serves through the edge again after the restart', async () => {
      const runtime = f.controller.runtime!;
      const before = await runtime.list({ app, env: 'production' });
      expect(before.map((i) => i.state)).toEqual(['running', 'running']);

      const t0 = Date.now();
      await second.restart();
      const upAt = Date.now();
      const after = await runtime.list({ app, env: 'production' });
      console.log(
        `engine down+up ${upAt - t0} ms; ports ${before.map((i) => i.hostPort).join(',')} → ${after
          .map((i) => `${i.slot}:${i.state}:${i.hostPort ?? '-'}:rc${i.restartCount}`)
          .join(',')}`,
      );

      await answersAgain('the app to answer through the edge again', 'revision one');
      const servingAt = Date.now();
      const status = await healthy();
      console.log(`serving again ${servingAt - upAt} ms after the engine answered`);
      // Every upstream is an instance that runs now: none is a port from before the restart.
      const running = await runningNow();
      expect(running).toHaveLength(2);
      // The engine restarted them (exit 143 on SIGTERM, on-failure policy): routed, not replaced.
      expect(running.map((i) => i.id).sort()).toEqual(before.map((i) => i.id).sort());
      expect([...(status.route?.upstreams ?? [])].sort()).toEqual(
        running.map((i) => upstreamOf(i)).sort(),
      );
      // Twenty requests in a row all answer: no stale upstream left to fail on.
      for (let n = 0; n < 20; n++) expect(await page(url)).toContain('revision one');
    }, 200_000);

    it('(A2) an instance whose port was taken while the engine was down comes back on another port, and the edge follows it', async () => {
      const runtime = f.controller.runtime!;
      const before = await runtime.list({ app, env: 'production' });
      // Something else takes an instance's port while the engine is down: the engine cannot publish
      // it again, so that instance stays stopped, and the others may come back on other ports.
      await second.down();
      const held = new Set<Socket>();
      const squatter = createServer((s) => held.add(s));
      await new Promise<void>((r) => squatter.listen(before[0]!.hostPort, '127.0.0.1', r));
      try {
        await second.up();
        const after = await runtime.list({ app, env: 'production' });
        console.log(
          `held ${before[0]!.hostPort}: ${after.map((i) => `${i.slot}:${i.state}:${i.exitCode ?? ''}:${i.hostPort ?? '-'}`).join(',')}`,
        );
        await answersAgain('the app to answer through the edge again', 'revision one');
        const status = await healthy();
        const running = await runningNow();
        expect(running).toHaveLength(2);
        expect([...(status.route?.upstreams ?? [])].sort()).toEqual(
          running.map((i) => upstreamOf(i)).sort(),
        );
        expect(status.route?.upstreams).not.toContain(`127.0.0.1:${before[0]!.hostPort}`);
        for (let n = 0; n < 20; n++) expect(await page(url)).toContain('revision one');
      } finally {
        // The edge keeps its connections to the squatter open: close() would wait for them.
        for (const s of held) s.destroy();
        await new Promise((r) => squatter.close(r));
      }
    }, 200_000);

    /**
     * Pushes a page saying `marker`, restarts the engine once the rollout's first new instance
     * runs, and expects the rollout to wait, say so, then succeed and serve `marker`.
     */
    async function rollOutThroughRestart(marker: string): Promise<void> {
      const runtime = f.controller.runtime!;
      const sha = await pushPageBuilt(f, app, `<p>${marker}</p>\n`, marker);
      // While it is in progress: its first new instance has started.
      await waitFor(
        `the first instance of ${marker}`,
        async () =>
          (await runtime.list({ app, env: 'production' })).some(
            (i) => i.revision === sha && i.state === 'running',
          )
            ? true
            : undefined,
        120_000,
      );
      const inFlight = (await f.controller.rollouts.list(app, 'production', 1))[0];
      expect(inFlight?.to.sha).toBe(sha);
      expect(inFlight?.outcome).toBeUndefined();

      await second.down();
      // The engine stays away a while, as a host's restart takes: the rollout must not give up, and
      // the environment's status says why nothing moves.
      const downAt = Date.now();
      const during = await waitFor(
        'the environment status to say the rollout waits',
        async () => {
          const s = await f.controller.rollouts.status(app, 'production');
          return s?.health.detail.includes('waiting:') ? s : undefined;
        },
        20_000,
      );
      await sleep(Math.max(0, 3000 - (Date.now() - downAt)));
      await second.up();

      const rollout = await finishedRollout(f, app, sha);
      const events = await f.controller.rollouts.events(rollout.id);
      const texts = events.map((e) => e.text);
      const waiting = texts.findIndex((t) => t.startsWith('waiting:'));
      if (rollout.outcome !== 'succeeded') console.log(texts.join('\n'));
      expect(rollout.outcome).toBe('succeeded');
      expect(waiting).toBeGreaterThanOrEqual(0);
      const answered = texts.findIndex((t) => t.startsWith('the runtime answers again'));
      expect(answered).toBeGreaterThan(waiting);
      console.log(
        `${texts[waiting]}\n${texts[answered]}\nstatus meanwhile: ${during.health.detail}`,
      );
      expect(during.health.status).toBe('progressing');
      expect(during.health.detail).toMatch(/waiting: .*not reachable/);

      await waitFor(
        `${marker} through the edge`,
        async () => ((await page(url))?.includes(marker) ? true : undefined),
        60_000,
      );
      for (let n = 0; n < 20; n++) expect(await page(url)).toContain(marker);
      const running = await runningNow();
      expect(running.map((i) => i.revision)).toEqual([sha, sha]);
    }

    it('(B) a rollout caught by the restart waits for the engine, then succeeds', async () => {
      await rollOutThroughRestart('revision two');
    }, 300_000);

    it('(C) an app that exits 0 on SIGTERM, which the engine leaves stopped: replaced between rollouts, started again by a rollout', async () => {
      const runtime = f.controller.runtime!;
      // A graceful app: the shell traps SIGTERM and exits 0, so the on-failure policy does not
      // bring it back when the engine starts again.
      const dockerfile = await readFile(path.join(f.wt.dir, 'Dockerfile'), 'utf8');
      await f.wt.write(
        'Dockerfile',
        dockerfile.replace(
          /^CMD .*$/m,
          `CMD ["sh", "-c", "trap 'exit 0' TERM; busybox httpd -f -v -p 8080 -h /www & wait"]`,
        ),
      );
      await pushPageDeployed(f, app, '<p>revision three</p>\n', 'Revision three');
      const before = await runtime.list({ app, env: 'production' });
      await second.restart();
      const after = await runtime.list({ app, env: 'production' });
      console.log(
        `graceful app after the restart: ${after.map((i) => `${i.slot}:${i.state}:${i.exitCode ?? ''}`).join(',')}`,
      );
      await answersAgain('the graceful app to answer through the edge again', 'revision three');
      await healthy();
      const running = await runningNow();
      expect(running).toHaveLength(2);
      // Stopped ones were replaced: new instances, none of those from before the restart.
      expect(running.some((i) => before.some((b) => b.id === i.id))).toBe(false);

      await rollOutThroughRestart('revision four');
    }, 400_000);
  },
);
