/**
 * The reconciler's status and timeline on the API and the CLI, and the explicit prune, against a
 * real controller with Docker instances behind Caddy. The statuses are written here through
 * RolloutStore as the reconciler would write them: this tests the surfaces, not the reconciler.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healEventText, type HealEvent } from '../../src/reconcile/events.js';
import type { EnvStatus } from '../../src/store/records.js';
import {
  appName,
  closeWithInstances,
  pushPageDeployed,
  startExampleFixture,
  type Fixture,
} from '../support/controller-fixture.js';
import { gantry } from './cli-process.js';

const run = promisify(execFile);
const ENV = 'production';

describe('environment status, timeline and prune', () => {
  let f: Fixture;
  const app = appName('stat');

  async function call(
    path: string,
    token: string | undefined,
    init: { method?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${f.controller.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const viewer = () => f.client.token;
  const deployer = () => f.deployer.token;

  async function containersOf(name: string): Promise<string[]> {
    const { stdout } = await run('docker', [
      'ps',
      '-a',
      '-q',
      '--filter',
      `label=dev.gantry.app=${name}`,
    ]);
    return stdout.split('\n').filter(Boolean);
  }

  function writtenStatus(over: Partial<EnvStatus>): EnvStatus {
    return {
      app,
      env: ENV,
      sync: { status: 'synced', reasons: [] },
      health: { status: 'healthy', detail: '3/3 healthy' },
      desired: null,
      instances: [],
      route: null,
      selfHeal: true,
      orphaned: null,
      observedAt: new Date().toISOString(),
      ...over,
    };
  }

  beforeAll(async () => {
    f = await startExampleFixture(app);
    // The statuses here are the test's: the controller's reconciler is kept off this environment,
    // as when another controller owns it (its ownership lease is taken before the first deploy).
    const { redis, keys } = f.controller.store;
    await redis.set(keys.reconcileOwner(app, ENV), 'test', 'PX', 600_000);
    await pushPageDeployed(f, app, '<h1>status</h1>\n', 'First');
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('shows health and sync unknown until the reconciler writes a status', async () => {
    const res = await call(`/api/apps/${app}/rollouts`, viewer());
    expect(res.status).toBe(200);
    const [env] = res.body.environments as { env: string; status: EnvStatus }[];
    expect(env?.status).toMatchObject({
      app,
      env: ENV,
      sync: { status: 'unknown', reasons: [] },
      health: { status: 'unknown' },
      orphaned: null,
    });
    const apps = await call('/api/apps', viewer());
    const mine = (apps.body.apps as { name: string; status: unknown }[]).find(
      (a) => a.name === app,
    );
    expect(mine?.status).toMatchObject({ health: 'unknown', sync: 'unknown', orphaned: [] });
  });

  it('returns the written status and the timeline, newest first; the CLI prints both', async () => {
    const running = await f.controller.runtime!.list({ app, env: ENV });
    expect(running).toHaveLength(3);
    const [i0, i1, i2] = running;
    const state = await f.controller.rollouts.env(app, ENV);
    await f.controller.rollouts.putStatus(
      writtenStatus({
        sync: {
          status: 'out-of-sync',
          reasons: [{ reason: 'drift', detail: `${i2!.slot} exited` }],
        },
        health: { status: 'degraded', detail: '2/3 healthy' },
        instances: [
          ...[i0!, i1!].map((i) => ({
            slot: i.slot,
            id: i.id,
            host: i.host,
            revision: i.revision,
            state: 'running',
            verdict: 'healthy' as const,
            routed: true,
          })),
          {
            slot: i2!.slot,
            id: i2!.id,
            host: i2!.host,
            revision: i2!.revision,
            state: 'exited',
            verdict: 'unhealthy',
            routed: false,
            detail: 'exited 137',
          },
        ],
        route: { id: state.route!.id, url: state.route!.url, upstreams: [] },
      }),
    );
    const events: HealEvent[] = [
      { kind: 'drift', at: Date.now() - 60_000, detail: 'seen before self-heal was turned on' },
      {
        kind: 'replaced',
        at: Date.now() - 1000,
        slot: i2!.slot,
        instanceId: i2!.id,
        replacement: `${i2!.slot}-b`,
        cause: 'exited',
        detail: 'exited 137',
      },
    ];
    await f.controller.rollouts.appendEnvEvents(
      app,
      ENV,
      events.map((e) => ({
        at: e.at,
        kind: e.kind === 'drift' ? 'drift' : 'self-heal',
        text: healEventText(e),
        data: e,
      })),
    );

    const rolls = await call(`/api/apps/${app}/rollouts?env=${ENV}`, viewer());
    const [env] = rolls.body.environments as { status: EnvStatus }[];
    expect(env?.status.health).toEqual({ status: 'degraded', detail: '2/3 healthy' });
    expect(env?.status.instances.map((i) => i.verdict)).toEqual([
      'healthy',
      'healthy',
      'unhealthy',
    ]);
    const apps = await call('/api/apps', viewer());
    expect(
      (apps.body.apps as { name: string; status: unknown }[]).find((a) => a.name === app)?.status,
    ).toMatchObject({
      health: 'degraded',
      sync: 'out-of-sync',
      envs: { [ENV]: { health: 'degraded' } },
    });

    const tl = await call(`/api/apps/${app}/timeline?env=${ENV}&limit=10`, viewer());
    expect(tl.status).toBe(200);
    const lines = tl.body.events as { kind: string; text: string; data: { kind: string } }[];
    expect(lines.map((l) => l.kind)).toEqual(['self-heal', 'drift']);
    expect(lines[0]?.text).toBe(`self-heal: replaced ${i2!.slot} with ${i2!.slot}-b, exited 137`);
    expect(lines[0]?.data.kind).toBe('replaced');
    // One environment: env may be left out; limit counts from the newest.
    const one = await call(`/api/apps/${app}/timeline?limit=1`, viewer());
    expect((one.body.events as unknown[]).length).toBe(1);
    expect(one.body.env).toBe(ENV);
    expect((await call(`/api/apps/${app}/timeline?limit=0`, viewer())).status).toBe(400);
    expect((await call(`/api/apps/nope${app}/timeline`, viewer())).status).toBe(404);
    expect((await call(`/api/apps/${app}/timeline`, undefined)).status).toBe(401);

    const cli = await gantry(['status', app], { client: f.client });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`  sync:      out of sync: drift (${i2!.slot} exited)`);
    expect(cli.stdout).toContain(`  health:    degraded: 2/3 healthy; ${i2!.slot} exited 137`);
    expect(cli.stdout).toMatch(/timeline \(newest first\):\n\s+\d+s ago\s+self-heal: replaced/);
    const json = await gantry(['status', app, '--json'], { client: f.client });
    const parsed = JSON.parse(json.stdout) as {
      environments: { status: EnvStatus }[];
      timeline: Record<string, unknown[]>;
    };
    expect(parsed.environments[0]?.status.health.status).toBe('degraded');
    expect(parsed.timeline[ENV]).toHaveLength(2);
  });

  it('refuses to prune without the deployer role, a non-orphaned env, or while the lease is held', async () => {
    const forbidden = await call(`/api/apps/${app}/prune`, viewer(), {
      method: 'POST',
      body: { env: ENV },
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('GANTRY_ERR_FORBIDDEN');

    const refused = await call(`/api/apps/${app}/prune`, deployer(), {
      method: 'POST',
      body: { env: ENV },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('GANTRY_ERR_NOT_ORPHANED');
    expect(
      (await call(`/api/apps/${app}/prune`, deployer(), { method: 'POST', body: {} })).status,
    ).toBe(400);
    const cli = await gantry(['prune', app, '--env', ENV], { client: f.deployer });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/not orphaned/);

    await f.controller.rollouts.putStatus(
      writtenStatus({
        sync: { status: 'out-of-sync', reasons: [{ reason: 'orphaned', detail: 'gone' }] },
        orphaned: { why: `${ENV} is no longer in gantry.yaml` },
      }),
    );
    const { redis, keys } = f.controller.store;
    await redis.set(keys.rolloutLease(app, ENV), 'someone-else', 'PX', 30_000);
    try {
      const busy = await call(`/api/apps/${app}/prune`, deployer(), {
        method: 'POST',
        body: { env: ENV },
      });
      expect(busy.status).toBe(409);
      expect(busy.body.code).toBe('GANTRY_ERR_ENV_BUSY');
    } finally {
      await redis.del(keys.rolloutLease(app, ENV));
    }
    // Nothing was removed by any refusal.
    expect(await containersOf(app)).toHaveLength(3);
  });

  it('prunes an orphaned environment: instances, route and record go; the timeline says so', async () => {
    const state = await f.controller.rollouts.env(app, ENV);
    const url = state.route!.url;
    expect((await fetch(url)).status).toBe(200);

    const status = await gantry(['status', app], { client: f.client });
    expect(status.stdout).toContain(`gantry prune ${app} --env ${ENV}`);

    const cli = await gantry(['prune', app, '--env', ENV], { client: f.deployer });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(
      `pruned ${app}/${ENV}: 3 instance(s) removed, route ${state.route!.id}\n`,
    );

    expect(await containersOf(app)).toEqual([]);
    await expect(fetch(url)).rejects.toThrow();
    const after = await f.controller.rollouts.env(app, ENV);
    expect(after.current).toBeNull();
    expect(after.route).toBeNull();
    expect(await f.controller.rollouts.status(app, ENV)).toBeUndefined();
    expect(await f.controller.rollouts.deployedEnvs()).not.toContainEqual({ app, env: ENV });
    const tl = await call(`/api/apps/${app}/timeline?env=${ENV}&limit=1`, viewer());
    expect(tl.body.events).toMatchObject([
      {
        kind: 'pruned',
        text: `pruned by ci: 3 instance(s), route ${state.route!.id}`,
        data: { kind: 'pruned', by: 'ci', instances: 3, route: state.route!.id },
      },
    ]);

    // Forced on an environment with nothing left: recorded as forced.
    const forced = await call(`/api/apps/${app}/prune`, deployer(), {
      method: 'POST',
      body: { env: ENV, force: true },
    });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ instances: 0, route: null, forced: true });
    const last = await call(`/api/apps/${app}/timeline?env=${ENV}&limit=1`, viewer());
    expect((last.body.events as { text: string }[])[0]?.text).toBe(
      'pruned by ci: 0 instance(s) (forced: it was not orphaned)',
    );
  });

  it('documents the new routes in the OpenAPI document', async () => {
    const res = await fetch(`${f.controller.url}/docs/json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/apps/{app}/timeline']?.get).toBeDefined();
    expect(doc.paths['/api/apps/{app}/prune']?.post).toBeDefined();
  });
});
