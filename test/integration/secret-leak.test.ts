/**
 * Secret values never leave: a run's secret is set through the API, rolls out, is printed by a
 * failing exec health check, survives a config change, a rollback and a self-heal repair — and
 * then everything the controller wrote is searched for it and it is found nowhere: the log,
 * every Redis key (the sealed values included), the event stream, git notes, the requests the
 * forge and the notification receiver got, API responses, and instance labels. The only place it
 * may be is the environment of the instance's own process.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedGitEnv } from '../../src/demo/git-http-server.js';
import { NOTES_REF } from '../../src/history/notes.js';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedRollout,
  pushPageBuilt,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';
import { dumpRedis } from '../support/redis-dump.js';
import { startRecorder, type Recorder } from '../support/forge-recorder.js';

const run = promisify(execFile);

describe('secret values never leave the controller', () => {
  let f: Fixture;
  let forge: Recorder;
  let hook: Recorder;
  const app = appName('leak');
  const secret = `s3cr3t-${randomBytes(16).toString('hex')}`;
  const logFile = path.join(testEnv().runDir, `${uniqueName('leak')}.log`);

  beforeAll(async () => {
    forge = await startRecorder();
    forge.answer((c) =>
      c.path.endsWith('/deployments') ? { status: 201, body: { id: 7 } } : { status: 201 },
    );
    hook = await startRecorder();
    process.env.GANTRY_TEST_LEAK_FORGE_TOKEN = 'leak-forge-token';
    f = await startFixture({
      deploy: true,
      logFile,
      repo: [
        `forge: { kind: github, apiUrl: "${forge.url}", project: acme/app, tokenEnv: GANTRY_TEST_LEAK_FORGE_TOKEN }`,
      ],
      config: [
        'reconcile: { interval: 2s }',
        'notifications:',
        `  - { name: audit, kind: webhook, url: "${hook.url}/hook" }`,
      ],
    });
    // The exec check prints the secret when it fails: its output must be redacted everywhere.
    const spec = (await exampleSpec(app))
      .replace('replicas: 3', 'replicas: 2\n  secrets: [API_TOKEN]')
      .replace(
        'http: { path: /healthz, expect: 200 }',
        'exec: [sh, -c, "test -f /www/healthz || { echo token=$API_TOKEN; exit 1; }"]',
      );
    await f.wt.write('gantry.yaml', spec);
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
    await Promise.all([forge?.close(), hook?.close()]);
  });

  const api = async (method: string, url: string, body?: unknown, token = f.deployer.token) => {
    const res = await fetch(`${f.controller.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  it('finds the secret nowhere but in the instance process', async () => {
    // 1. A declared secret without a value fails the rollout before anything starts.
    const first = await pushPageBuilt(f, app, '<h1>leak</h1>\n', 'First');
    const failed = await finishedRollout(f, app, first);
    expect(failed.outcome).toBe('failed');
    expect(failed.reason).toContain('API_TOKEN');
    expect(await f.controller.runtime!.list({ app })).toEqual([]);

    // 2. Set it through the API (a release), with a var beside it; deploy again.
    const set = await api('PATCH', `/api/apps/${app}/config`, {
      env: 'production',
      secrets: { API_TOKEN: secret },
      set: { LOG_LEVEL: 'debug' },
    });
    expect(set.status, set.text).toBeLessThan(300);
    const deployed = await api('POST', `/api/apps/${app}/deploy`, {
      env: 'production',
      ref: first,
    });
    expect(deployed.status, deployed.text).toBeLessThan(300);
    const ok = await waitFor(
      'a succeeded rollout',
      async () =>
        (await f.controller.rollouts.list(app, 'production')).find(
          (r) => r.outcome === 'succeeded',
        ),
      120_000,
    );
    const [instance] = await f.controller.runtime!.list({ app, env: 'production' });
    const seen = await f.controller.runtime!.exec(instance!, ['sh', '-c', 'echo $API_TOKEN'], 5000);
    expect(seen.output.trim()).toBe(secret);

    // 3. A config change and a rollback to the release before it.
    const change = await api('PATCH', `/api/apps/${app}/config`, {
      env: 'production',
      set: { LOG_LEVEL: 'warn' },
    });
    expect(change.status, change.text).toBeLessThan(300);
    await waitFor(
      'the config release live',
      async () => {
        const env = await f.controller.rollouts.env(app, 'production');
        return env.current && env.current.rolloutId !== ok.id ? env : undefined;
      },
      120_000,
    );
    const back = await api('POST', `/api/apps/${app}/rollback`, { env: 'production' });
    expect(back.status, back.text).toBe(202);
    await waitFor(
      'the rollback done',
      async () =>
        (await f.controller.rollouts.list(app, 'production')).find(
          (r) => r.kind === 'rollback' && r.outcome,
        ),
      120_000,
    );

    // 4. The exec check fails on one instance and prints the secret: it is unrouted and replaced.
    const [victim] = await f.controller.runtime!.list({ app, env: 'production' });
    await run('docker', ['exec', '-u', 'root', victim!.id, 'rm', '/www/healthz']);
    await waitFor(
      'the failing instance replaced',
      async () => {
        const now = await f.controller.runtime!.list({ app, env: 'production' });
        return now.some((i) => i.id === victim!.id) ? undefined : true;
      },
      60_000,
    );
    await waitFor('notifications delivered', async () =>
      hook.calls.length >= 3 ? true : undefined,
    );

    // Now look everywhere.
    const places: Record<string, string> = {};
    places.log = await readFile(logFile, 'utf8');
    places.redis = await dumpRedis(f);
    places.forge = JSON.stringify(forge.calls);
    places.notifications = JSON.stringify(hook.calls);
    const clone = path.join(testEnv().runDir, uniqueName('leak-clone'));
    await run('git', ['clone', '-q', f.repoUrl, clone], { env: isolatedGitEnv() });
    await run('git', ['fetch', '-q', 'origin', `${NOTES_REF}:${NOTES_REF}`], {
      cwd: clone,
      env: isolatedGitEnv(),
    }).catch(() => undefined);
    places.notes = (
      await run('git', ['log', '--notes=gantry', '--format=%H %N'], {
        cwd: clone,
        env: isolatedGitEnv(),
      })
    ).stdout;
    const rollouts = await f.controller.rollouts.list(app, 'production');
    const urls = [
      '/api/apps',
      `/api/apps/${app}`,
      `/api/apps/${app}/rollouts`,
      `/api/apps/${app}/config?env=production`,
      `/api/apps/${app}/releases?env=production`,
      `/api/apps/${app}/timeline?env=production`,
      `/api/history?app=${app}`,
      `/api/apps/${app}/logs?env=production&lines=200`,
      ...rollouts.map((r) => `/api/rollouts/${r.id}`),
      '/metrics',
    ];
    for (const u of urls) places[`GET ${u}`] = (await api('GET', u)).text;
    places['GET /api/config'] = (await api('GET', '/api/config', undefined, f.admin.token)).text;
    const { stdout: labels } = await run('docker', [
      'ps',
      '-a',
      '--filter',
      `label=dev.gantry.app=${app}`,
      '--format',
      '{{.Labels}}',
    ]);
    places.labels = labels;

    const leaks = Object.entries(places)
      .filter(([, text]) => text.includes(secret))
      .map(([k]) => k);
    expect(leaks).toEqual([]);
    // The searches searched something: the secret's name is there, its value is not.
    expect(places.redis).toContain('API_TOKEN');
    expect(places.log.length).toBeGreaterThan(1000);
    expect(places[`GET /api/apps/${app}/timeline?env=production`]).toContain('token=***');
  });
});
