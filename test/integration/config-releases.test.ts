/**
 * Config vars, secrets and releases end to end, against a real controller, Redis, Docker, Caddy
 * and git: one app with production (main) and staging (branch `staging`), both deployed. A config
 * change on production is a release rolled out through the health gates; a new process in a
 * production instance sees it, staging's does not; a rollback to a release restores its config;
 * a declared secret without a value stops a rollout before anything starts. Secret values never
 * appear in an answer, the CLI's output or a rollout record.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import type { Instance } from '../../src/runtime/runtime.js';
import type { RolloutRecord } from '../../src/store/records.js';
import {
  appName,
  deployMainAndStaging,
  finishedRollout,
  pushBuilt,
  rolloutEnded,
  startFixture,
  type Fixture,
} from '../support/controller-fixture.js';
import { gantry } from './cli-process.js';

const SECRET = 'postgres://app:s3cr3t-Zq81@db.internal:5432/app';
const SECRET_2 = 'postgres://app:rotated-Wk42@db.internal:5432/app';

interface ChangeAnswer {
  release: { version: number; line: string } | null;
  rolloutId: string | null;
}
interface ReleasesAnswer {
  current: number | null;
  releases: {
    version: number;
    line: string;
    by: string;
    current: boolean;
    change: { kind: string };
  }[];
}

describe('config, secrets and releases', () => {
  let f: Fixture;
  const app = appName('cfg');
  const transcript: string[] = [];
  const spec = (run = '') =>
    [
      `app: ${app}`,
      `run: { port: 8080, replicas: 1${run} }`,
      'health: { http: { path: /healthz }, interval: 1s, startPeriod: 2s, healthyThreshold: 2 }',
      'environments:',
      '  production: { branch: main }',
      '  staging: { branch: staging }',
      '',
    ].join('\n');

  const runtime = () => {
    const r = f.controller.runtime;
    if (!r) throw new Error('the fixture deploys, so it has a runtime');
    return r;
  };
  const running = async (env: string) =>
    (await runtime().list({ app, env })).filter((i) => i.state === 'running');
  /** `$LOG_LEVEL|$DATABASE_URL` as a new process in each instance sees them. */
  const seen = (instances: Instance[]) =>
    Promise.all(
      instances.map(async (i) => {
        const res = await runtime().exec(
          i,
          ['sh', '-c', 'echo "$LOG_LEVEL|$DATABASE_URL"'],
          10_000,
        );
        expect(res.exitCode).toBe(0);
        return res.output.trim();
      }),
    );
  const finished = (id: string) => rolloutEnded(f, id);
  const patch = (client: Fixture['client'], body: unknown) =>
    api<ChangeAnswer>(client, `/api/apps/${app}/config`, {
      method: 'PATCH',
      body: JSON.stringify(body),
    });
  /** A CLI run, kept for the transcript (docs/cli.md's examples come from it). */
  const cli = async (args: string[], client = f.deployer) => {
    const res = await gantry(args, { client });
    transcript.push(`$ gantry ${args.join(' ')}\n${res.stdout}${res.stderr}(exit ${res.code})\n`);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    return res;
  };

  beforeAll(async () => {
    f = await startFixture({ deploy: true, repo: ['branches: [main, staging]'] });
    await f.wt.write('gantry.yaml', spec());
    const { prod } = await deployMainAndStaging(f, app);
    // Back on main for the later commits.
    await f.wt.git('reset', '--quiet', '--hard', prod);
  }, 300_000);

  afterAll(async () => {
    // GANTRY_CLI_TRANSCRIPT=file keeps what the CLI printed (docs/cli.md's examples come from it).
    const out = process.env.GANTRY_CLI_TRANSCRIPT;
    if (out && transcript.length) await writeFile(out, transcript.join('\n'));
    // The controller first: its reconciler would replace instances removed while it runs.
    const rt = f?.controller.runtime;
    await f?.close();
    if (rt) for (const i of await rt.list({ app })) await rt.remove(i);
  });

  it('a config change is a release rolled out to that environment only; rollback restores config', async () => {
    const [before] = await running('production');
    expect(await seen([before!])).toEqual(['|']);

    // A var, by the deployer `ci`: a release of the running image with the new config.
    const v2 = await patch(f.deployer, { env: 'production', set: { LOG_LEVEL: 'debug' } });
    expect(v2.release).toEqual({ version: 2, line: 'v2: set LOG_LEVEL by ci' });
    expect((await finished(v2.rolloutId!)).outcome).toBe('succeeded');

    // A secret, by the admin `root`: the answer names it, never its value.
    const res = await fetch(`${f.controller.url}/api/apps/${app}/config`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${f.admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ env: 'production', secrets: { DATABASE_URL: SECRET } }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(text).not.toContain(SECRET);
    const v3 = JSON.parse(text) as ChangeAnswer;
    expect(v3.release).toEqual({ version: 3, line: 'v3: set DATABASE_URL (secret) by root' });
    const rolled = await finished(v3.rolloutId!);
    expect(rolled.outcome).toBe('succeeded');
    expect(rolled.to.release).toBe(3);
    expect(JSON.stringify(rolled)).not.toContain(SECRET);
    expect(JSON.stringify(await f.controller.rollouts.events(rolled.id))).not.toContain(SECRET);

    // A new process in production's instance sees both; staging's sees neither.
    const prod = await running('production');
    expect(prod.map((i) => i.release)).toEqual([3]);
    expect(await seen(prod)).toEqual([`debug|${SECRET}`]);
    expect(await seen(await running('staging'))).toEqual(['|']);

    // The viewer reads var values and who set each secret when, not its value.
    const viewRes = await fetch(`${f.controller.url}/api/apps/${app}/config?env=production`, {
      headers: { authorization: `Bearer ${f.token}` },
    });
    const viewText = await viewRes.text();
    expect(viewText).not.toContain(SECRET);
    const view = JSON.parse(viewText) as {
      release: number;
      vars: Record<string, { value: string; by: string }>;
      secrets: Record<string, { set: boolean; version: number; by: string; at: string }>;
    };
    expect(view.release).toBe(3);
    expect(view.vars.LOG_LEVEL).toMatchObject({ value: 'debug', by: 'ci' });
    expect(view.secrets.DATABASE_URL).toMatchObject({ set: true, version: 1, by: 'root' });
    const staging = await api<{ vars: object; secrets: object }>(
      f.client,
      `/api/apps/${app}/config?env=staging`,
    );
    expect(staging).toMatchObject({ vars: {}, secrets: {} });

    // The CLI shows the same, secrets as who set them when.
    const shown = await cli(['config', app, '--env', 'production'], f.client);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^DATABASE_URL\s+\(secret, set by root \d+s ago\)$/m);
    expect(shown.stdout).toMatch(/^LOG_LEVEL\s+debug$/m);
    const json = await cli(['config', app, '--env', 'production', '--json'], f.client);
    expect(JSON.parse(json.stdout)).toMatchObject({
      release: 3,
      secrets: { DATABASE_URL: { set: true } },
    });

    // Roll back to v2 by its number: its image and config (LOG_LEVEL, no DATABASE_URL) return.
    const back = await api<{ rolloutId: string; release?: number }>(
      f.deployer,
      `/api/apps/${app}/rollback`,
      { method: 'POST', body: JSON.stringify({ env: 'production', to: 'v2' }) },
    );
    expect(back.release).toBe(2);
    const undone = await finished(back.rolloutId);
    expect(undone.outcome).toBe('succeeded');
    expect(undone.to.release).toBe(4);
    const after = await running('production');
    expect(after.map((i) => i.release)).toEqual([4]);
    expect(await seen(after)).toEqual(['debug|']);
    // What is recorded as the environment's config is the restored one too: the next change
    // starts from it, and DATABASE_URL does not come back with it.
    const cfg = await api<{ vars: Record<string, unknown>; secrets: Record<string, unknown> }>(
      f.client,
      `/api/apps/${app}/config?env=production`,
    );
    expect(Object.keys(cfg.vars)).toEqual(['LOG_LEVEL']);
    expect(Object.keys(cfg.secrets)).toEqual([]);

    // The releases: both config changes with their authors, and the rollback.
    const rel = await api<ReleasesAnswer>(f.client, `/api/apps/${app}/releases?env=production`);
    expect(rel.current).toBe(4);
    expect(rel.releases.map((r) => [r.line, r.current])).toEqual([
      ['v4: rollback to v2 by ci', true],
      ['v3: set DATABASE_URL (secret) by root', false],
      ['v2: set LOG_LEVEL by ci', false],
      [expect.stringMatching(/^v1: deploy [0-9a-f]{12} by /), false],
    ]);
    expect(JSON.stringify(rel)).not.toContain(SECRET);
    const table = await cli(['releases', app, '--env', 'production'], f.client);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^\*\s+v4\s+rollback to v2\s+ci\s/m);
    expect(table.stdout).toMatch(/^\s+v3\s+set DATABASE_URL \(secret\)\s+root\s/m);
    await cli(['releases', app, '--env', 'production', '--limit', '2', '--json'], f.client);
  }, 600_000);

  it('config:set through the CLI follows the new release live and exits 0', async () => {
    const res = await cli([
      'config:set',
      app,
      'GREETING=hello',
      'LOG_LEVEL=info',
      '--env',
      'staging',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/set GREETING, LOG_LEVEL on .*\/staging: release v\d+, rollout r-/);
    expect(res.stdout).toMatch(/succeeded/);
    expect(await seen(await running('staging'))).toEqual(['info|']);
    // A secret on the command line: the output names it only.
    const secret = await cli([
      'config:set',
      app,
      `DATABASE_URL=${SECRET_2}`,
      '--secret',
      '--env',
      'staging',
      '--no-wait',
    ]);
    expect(secret.code, secret.stderr).toBe(0);
    expect(secret.stdout).not.toContain(SECRET_2);
    const id = secret.stdout.trim().split('\n').at(-1)!;
    expect((await finished(id)).outcome).toBe('succeeded');
    const unset = await cli(['config:unset', app, 'GREETING', '--env', 'staging']);
    expect(unset.code, unset.stderr).toBe(0);
    const shown = await cli(['config', app, '--env', 'staging'], f.client);
    expect(shown.stdout).not.toContain(SECRET_2);
    expect(shown.stdout).not.toMatch(/GREETING/);
    // A bad key changes nothing and says why; a viewer may not change config at all.
    const bad = await cli(['config:set', app, '1BAD=x', '--env', 'staging']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/GANTRY_ERR_CONFIG_VAR_INVALID|not an environment variable name/);
    const viewer = await cli(['config:set', app, 'X=1', '--env', 'staging'], f.client);
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/deployer/);
    await cli(['releases', app, '--env', 'staging'], f.client);
    const rotate = await cli(['secrets:rotate'], f.admin);
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(rotate.stdout).toMatch(
      /^re-sealed 0 secret versions in \d+ environments? under the current key$/m,
    );
  }, 300_000);

  it('a declared secret without a value fails the rollout before anything starts', async () => {
    const before = await running('production');
    const serving = (await f.controller.rollouts.env(app, 'production')).current;
    await f.wt.write('gantry.yaml', spec(', secrets: [API_KEY]'));
    const sha = await pushBuilt(f, app, 'declare API_KEY');
    const rec: RolloutRecord = await finishedRollout(f, app, sha, 'production');
    expect(rec.outcome).toBe('failed');
    expect(rec.reason).toMatch(/API_KEY/);
    expect(JSON.stringify(rec)).not.toContain(SECRET);
    // Nothing new started: the same instances, the old release serving.
    const after = await running('production');
    expect(after.map((i) => i.id)).toEqual(before.map((i) => i.id));
    expect(after.map((i) => i.revision)).toEqual(before.map((i) => i.revision));
    const all = await runtime().list({ app, env: 'production' });
    expect(all.filter((i) => i.revision === sha)).toEqual([]);
    const now = (await f.controller.rollouts.env(app, 'production')).current;
    expect(now?.sha).toBe(serving?.sha);
    expect(now?.release).toBe(serving?.release);
    expect(await seen(after)).toEqual(['debug|']);

    // The migration: API_KEY from GANTRY_SECRET_API_KEY in the controller's environment (this
    // process), named by the spec that declares it; then the failed revision goes out with it.
    process.env.GANTRY_SECRET_API_KEY = 'key-from-the-environment-7731';
    try {
      const imported = await cli(['config:import-env', app, '--env', 'production'], f.admin);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/^imported API_KEY$/m);
      expect(imported.stdout).not.toContain('key-from-the-environment-7731');
    } finally {
      delete process.env.GANTRY_SECRET_API_KEY;
    }
    const retried = await api<{ rolloutId: string }>(f.deployer, `/api/rollouts/${rec.id}/retry`, {
      method: 'POST',
    });
    expect((await finished(retried.rolloutId)).outcome).toBe('succeeded');
    const fixed = await running('production');
    expect(fixed.map((i) => i.revision)).toEqual([sha]);
    const key = await runtime().exec(fixed[0]!, ['sh', '-c', 'echo "$API_KEY"'], 10_000);
    expect(key.output.trim()).toBe('key-from-the-environment-7731');
    await cli(['releases', app, '--env', 'production'], f.client);
  }, 300_000);
});
