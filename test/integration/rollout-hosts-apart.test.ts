/**
 * One environment on two Docker hosts that are really apart: this machine's engine, and one in
 * its own network namespace reached over TCP with TLS (test/support/netns-docker.ts). Instances
 * there publish on the namespace's address, and the edge and the probes dial them there.
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedRollout,
  pushBuilt,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { surveyOf } from '../../src/runtime/survey.js';
import { testEnv } from '../support/env.js';
import { startFixedRate } from '../support/fixed-rate.js';
import {
  netnsDockerUnavailable,
  startNetnsDocker,
  type NetnsDocker,
} from '../support/netns-docker.js';

const unavailable = await netnsDockerUnavailable();
if (unavailable) console.log(`hosts-apart test skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('one environment on two hosts that are apart', () => {
  let f: Fixture | undefined;
  let two: NetnsDocker | undefined;
  const app = appName('apart');

  beforeAll(async () => {
    two = await startNetnsDocker({ name: 'two', registry: testEnv().registry });
    f = await startFixture({
      deploy: true,
      config: [
        // This machine's engine, and the one apart; a host that went away is named in the
        // status within seconds, not minutes.
        `runtime: { hosts: [{ name: one, endpoint: "unix:///var/run/docker.sock" }, ${two.hostEntry}] }`,
        'reconcile: { engineWait: 5s }',
      ],
    });
    await f.wt.write('gantry.yaml', await exampleSpec(app));
  }, 180_000);
  afterAll(async () => {
    // Back up, so the instances there are removed with the rest.
    await two?.up().catch(() => undefined);
    await closeWithInstances(f, app).catch((e: unknown) => console.warn(e));
    await two?.stop();
  }, 180_000);

  const running = async (sha: string) =>
    (await f!.controller.runtime!.list({ app, env: 'production' })).filter(
      (i) => i.revision === sha && i.state === 'running',
    );
  const hostsOf = async (sha: string) => (await running(sha)).map((i) => i.host).sort();
  const routeUrl = async () => (await f!.controller.rollouts.env(app, 'production')).route!.url;

  it('rolls out over both hosts under load through the edge with 0 failed requests', async () => {
    const first = await pushBuilt(f!, app, 'First on both hosts');
    expect((await finishedRollout(f!, app, first)).outcome).toBe('succeeded');
    // The remote engine had no image: it pulled it by digest through the registry address.
    expect(await hostsOf(first)).toEqual(['one', 'one', 'two']);
    const remote = (await running(first)).find((i) => i.host === 'two')!;
    expect(remote.hostAddress).toBe(two!.address);
    // The edge dials it on the namespace's address (the reconciler's status lists the upstreams).
    await waitFor('the remote instance among the edge upstreams', async () => {
      const s = await f!.controller.rollouts.status(app, 'production');
      return s?.route?.upstreams.includes(`${two!.address}:${remote.hostPort}`) ? true : undefined;
    });

    const url = await routeUrl();
    const load = startFixedRate(url, 20);
    await f!.wt.write('www/index.html', '<h1>second on both hosts</h1>\n');
    const second = await pushBuilt(f!, app, 'Second on both hosts');
    const rollout = await finishedRollout(f!, app, second);
    const result = await load.stop();
    expect(rollout.outcome, rollout.reason).toBe('succeeded');
    console.log(
      `hosts apart: ${result.total} requests during the rollout, ${result.failed} failed`,
    );
    expect(result.failures).toEqual([]);
    expect(result.total).toBeGreaterThan(0);
    expect(await hostsOf(second)).toEqual(['one', 'one', 'two']);
    expect(await hostsOf(first)).toEqual([]);
  });

  it('rolls a bad revision back on both hosts: no mixed fleet', async () => {
    const good = (await f!.controller.rollouts.env(app, 'production')).current!.sha;
    await rm(path.join(f!.wt.dir, 'www', 'healthz'));
    const bad = await pushBuilt(f!, app, 'Bad on both hosts');
    const rollout = await finishedRollout(f!, app, bad);
    expect(rollout.outcome).toBe('failed');
    expect(await hostsOf(bad)).toEqual([]);
    expect(await hostsOf(good)).toEqual(['one', 'one', 'two']);
    expect((await f!.controller.rollouts.env(app, 'production')).current?.sha).toBe(good);
    await f!.wt.write('www/healthz', 'ok\n');
  });

  it('names the host that went away in the status, and puts an instance back when it returns without one', async () => {
    const good = (await f!.controller.rollouts.env(app, 'production')).current!.sha;
    await two!.down();
    const away = await waitFor('a status that names the dead host', async () => {
      const s = await f!.controller.rollouts.status(app, 'production');
      const said = [s?.health.detail, ...(s?.sync.reasons ?? []).map((r) => r.detail)].join('\n');
      return said.includes('"two"') ? s : undefined;
    });
    console.log(`while host two is down: ${away.health.status}: ${away.health.detail}`);
    // The edge still serves from the host that is up.
    expect((await fetch(await routeUrl())).status).toBe(200);

    // Every host or none: a partial list would read as missing replicas and start more.
    await expect(f!.controller.runtime!.list({ app, env: 'production' })).rejects.toThrow(
      /host "two"/,
    );
    // It returns without its instance (a host reinstalled): the engine has nothing to restart.
    await two!.up();
    const before = await two!.containerIds();
    await two!.removeContainers();
    const back = await waitFor(
      'a healthy environment on both hosts again',
      async () => {
        const s = await f!.controller.rollouts.status(app, 'production');
        if (s?.health.status !== 'healthy') return undefined;
        const remote = (await running(good)).filter((i) => i.host === 'two');
        const hosts = await hostsOf(good);
        const fresh = remote.length === 1 && !before.includes(remote[0]!.id);
        return hosts.join() === 'one,one,two' && fresh ? s : undefined;
      },
      120_000,
    );
    const remote = (await running(good)).find((i) => i.host === 'two')!;
    expect(back.route?.upstreams).toContain(`${two!.address}:${remote.hostPort}`);
    expect((await fetch(await routeUrl())).status).toBe(200);
  });

  it('fails a rollout whose host went away, naming it; once it returns, no mixed fleet is left', async () => {
    const good = (await f!.controller.rollouts.env(app, 'production')).current!.sha;
    await f!.wt.write('www/index.html', '<h1>caught by a host going away</h1>\n');
    const next = await pushBuilt(f!, app, 'Caught by a host going away');
    // Mid-rollout: once the first instance of the new revision exists.
    await waitFor('a first instance of the new revision', async () =>
      (await f!.controller.runtime!.list({ app, env: 'production' })).some(
        (i) => i.revision === next,
      )
        ? true
        : undefined,
    );
    await two!.down();
    const rollout = await finishedRollout(f!, app, next);
    console.log(`rollout caught by host two going away: ${rollout.outcome}: ${rollout.reason}`);
    expect(rollout.outcome).toBe('failed');
    expect(rollout.reason).toMatch(/host "two" is not reachable/);
    expect((await f!.controller.rollouts.env(app, 'production')).current?.sha).toBe(good);
    // Rolled back on the host that is still up, while the other is still away: nothing of the
    // new revision is left there, and the app answers from it.
    const live = await surveyOf(f!.controller.runtime!, { app, env: 'production' });
    expect(live.unreachable.map((u) => u.host)).toEqual(['two']);
    expect(live.instances.filter((i) => i.revision === next)).toEqual([]);
    const serving = live.instances.filter((i) => i.revision === good && i.state === 'running');
    // Two, as before; three when the rollout had already taken host two's instance out.
    expect(serving.length).toBeGreaterThanOrEqual(2);
    expect(new Set(serving.map((i) => i.host))).toEqual(new Set(['one']));
    expect((await fetch(await routeUrl())).status).toBe(200);
    const status = await waitFor('a status that names the host still away', async () => {
      const s = await f!.controller.rollouts.status(app, 'production');
      return JSON.stringify(s).includes('host \\"two\\" is not reachable') ? s : undefined;
    });
    console.log(
      `after the rollback, host two still away: ${status.health.status}: ${status.health.detail}`,
    );

    const upAt = Date.now();
    await two!.up();
    await waitFor(
      'only the previous revision, on both hosts, healthy',
      async () => {
        const s = await f!.controller.rollouts.status(app, 'production');
        const all = await f!.controller.runtime!.list({ app, env: 'production' });
        const done =
          s?.health.status === 'healthy' &&
          !all.some((i) => i.revision === next) &&
          (await hostsOf(good)).length === 3;
        if (done) return true;
        // Thrown, so a timeout says what was left.
        const left = all.map((i) => `${i.host}:${i.revision.slice(0, 7)}:${i.state}`).join(' ');
        throw new Error(`${s?.health.status}: ${s?.health.detail}; ${left}`);
      },
      150_000,
    );
    const hosts = (await hostsOf(good)).join();
    console.log(`no mixed fleet ${Date.now() - upAt} ms after host two came back (${hosts})`);
  }, 300_000);
});
