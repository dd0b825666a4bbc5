import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/api/auth.js';
import { loadControllerConfig, type Role } from '../../src/config/controller-config.js';
import type { ReloadReport } from '../../src/config/reload.js';
import { startController, type Controller } from '../../src/controller.js';
import { ForgeRepo } from '../../src/demo/forge.js';
import {
  createBareRepo,
  startGitHttpServer,
  type GitHttpServer,
} from '../../src/demo/git-http-server.js';
import { Worktree } from '../../src/demo/worktree.js';
import { stopEdge } from '../../src/edge/supervisor/ensure-edge.js';
import { freePort } from '../../src/process/daemon.js';
import { EXAMPLE, fastSpec, waitFor, appName } from '../support/controller-fixture.js';
import { spawnController, type ControllerProcess } from '../support/controller-process.js';
import { testEnv, uniqueName } from '../support/env.js';

interface Token {
  name: string;
  role: Role;
  /** The bearer token itself; the file holds its hash. */
  value: string;
}

function token(name: string, role: Role): Token {
  return { name, role, value: randomBytes(20).toString('hex') };
}

function tokensLine(tokens: readonly Token[]): string {
  const entries = tokens.map(
    (t) => `{ name: ${t.name}, role: ${t.role}, hash: "${hashToken(t.value)}" }`,
  );
  return `tokens: [${entries.join(', ')}]`;
}

/** `POST /api/config/reload` as `who`: the status and the body. */
async function reload(url: string, who: Token | undefined) {
  const res = await fetch(`${url}/api/config/reload`, {
    method: 'POST',
    headers: who ? { authorization: `Bearer ${who.value}` } : {},
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The status of a read with `who`'s token. */
async function statusAs(url: string, who: Token): Promise<number> {
  const res = await fetch(`${url}/api/apps`, { headers: { authorization: `Bearer ${who.value}` } });
  return res.status;
}

/**
 * Reload of `gantry.config.yaml` without a restart: repos, tokens and notifications apply at once;
 * an invalid file changes nothing; values that need a restart are reported, not applied.
 */
describe('config reload through the API', () => {
  const env = testEnv();
  const dir = path.join(env.runDir, uniqueName('reload'));
  const file = path.join(dir, 'gantry.config.yaml');
  const prefix = path.basename(dir);
  const dataDir = path.join(dir, 'data');
  const admin = token('root', 'admin');
  const viewer = token('tester', 'viewer');
  const deployer = token('ci', 'deployer');
  const late = token('late', 'viewer');
  const never = token('never', 'admin');
  const app2 = appName('rl');
  let git: GitHttpServer;
  let controller: Controller;
  let basePort: number;
  const repos = {
    app: { secret: randomBytes(20).toString('hex'), url: '', wt: undefined as unknown as Worktree },
    docs: {
      secret: randomBytes(20).toString('hex'),
      url: '',
      wt: undefined as unknown as Worktree,
    },
  };

  /** The config file's text; `docsExtra` lines go into the second repo's entry. */
  function configText(o: {
    tokens: Token[];
    docs?: boolean;
    docsExtra?: string[];
    port?: number;
  }): string {
    return [
      `listen: { host: 127.0.0.1, port: ${o.port ?? 0} }`,
      `redis: { url: "${env.redisUrl}", prefix: "${prefix}" }`,
      `registry: { address: "${env.registry}" }`,
      `dataDir: "${dataDir}"`,
      `edge: { basePort: ${basePort} }`,
      'deploy: { tickMs: 200 }',
      'build: { debounceMs: 200 }',
      tokensLine(o.tokens),
      'repos:',
      '  - name: app',
      `    url: "${repos.app.url}"`,
      `    webhookSecret: "${repos.app.secret}"`,
      ...(o.docs
        ? [
            '  - name: docs',
            `    url: "${repos.docs.url}"`,
            `    webhookSecret: "${repos.docs.secret}"`,
            ...(o.docsExtra ?? []).map((l) => `    ${l}`),
          ]
        : []),
      '',
    ].join('\n');
  }

  /** Commits and pushes an empty change to `repo`, then sends its signed webhook. */
  async function push(repo: 'app' | 'docs', message: string) {
    const r = repos[repo];
    const sha = await r.wt.commit(message);
    await r.wt.push();
    const forge = new ForgeRepo({ repoUrl: r.url, fullName: `acme/${repo}`, secret: r.secret });
    return { sha, ...(await forge.pushed(controller.url, 'github', sha, message)) };
  }

  beforeAll(async () => {
    git = await startGitHttpServer({ root: path.join(dir, 'git') });
    basePort = await freePort();
    for (const name of ['app', 'docs'] as const) {
      await createBareRepo(path.join(dir, 'git'), `${name}.git`, 'main');
      repos[name].url = git.repoUrl(`${name}.git`);
      repos[name].wt = await Worktree.clone(repos[name].url, path.join(dir, `clone-${name}`));
    }
    // The first repo only needs to accept webhooks; the second one builds and deploys an app.
    await repos.app.wt.write('README.md', 'not an app\n');
    await repos.docs.wt.copyFrom(EXAMPLE);
    await repos.docs.wt.write('gantry.yaml', fastSpec(app2));
    await writeFile(file, configText({ tokens: [admin, viewer, deployer] }));
    controller = await startController(loadControllerConfig(file), {
      log: pino({ level: process.env.GANTRY_TEST_LOG ?? 'silent' }),
      closeGraceMs: 3000,
      configFile: file,
    });
  });

  afterAll(async () => {
    const runtime = controller?.runtime;
    if (runtime) for (const i of await runtime.list({ app: app2 })) await runtime.remove(i);
    await controller?.close();
    await stopEdge(path.join(dataDir, 'edge'));
    await git?.close();
  });

  it('is the admin’s: 401 without a token, 403 for a viewer or a deployer', async () => {
    expect((await reload(controller.url, undefined)).status).toBe(401);
    expect(await reload(controller.url, viewer)).toMatchObject({
      status: 403,
      body: { code: 'GANTRY_ERR_FORBIDDEN' },
    });
    expect((await reload(controller.url, deployer)).status).toBe(403);
  });

  it('adds a repo: its signed webhook is accepted after the reload and its push deploys', async () => {
    const before = await push('docs', 'before the reload');
    expect(before.status).toBe(401);

    await writeFile(file, configText({ tokens: [admin, viewer, deployer, late], docs: true }));
    const { status, body } = await reload(controller.url, admin);
    expect(status).toBe(200);
    const report = body as unknown as ReloadReport;
    expect(report).toMatchObject({
      file,
      applied: true,
      changes: {
        repos: { added: ['docs'], removed: [], changed: [] },
        tokens: { added: ['late'], removed: [], changed: [] },
        needsRestart: [],
      },
    });
    expect(JSON.stringify(body)).not.toContain(repos.docs.secret);
    expect(JSON.stringify(body)).not.toContain(hashToken(late.value));

    const pushed = await push('docs', 'after the reload');
    expect(pushed.status).toBe(202);
    const rollout = await waitFor(
      `the rollout of ${app2}`,
      async () =>
        (await controller.rollouts.list(app2, 'production')).find(
          (r) => r.to.sha === pushed.sha && r.outcome !== undefined,
        ),
      180_000,
    );
    expect(rollout.outcome).toBe('succeeded');
  }, 240_000);

  it('adds a token: it works after the reload', async () => {
    expect(await statusAs(controller.url, late)).toBe(200);
  });

  it('refuses an invalid file with file:line:col and keeps running on the old config', async () => {
    const text = configText({
      tokens: [admin, viewer, deployer, late, never],
      docs: true,
      docsExtra: ['pollIntervalSeconds: -1'],
    });
    await writeFile(file, text);
    const line = text.split('\n').findIndex((l) => l.includes('pollIntervalSeconds')) + 1;
    const col = text.split('\n')[line - 1]!.indexOf('-1') + 1;

    const { status, body } = await reload(controller.url, admin);
    expect(status).toBe(400);
    expect(body.code).toBe('GANTRY_ERR_CONFIG_REJECTED');
    expect(body.message).toBe(
      `${file}:${line}:${col}: repos[1].pollIntervalSeconds must be an integer ≥ 0 (got -1)`,
    );
    expect(body.details).toMatchObject({
      file,
      errors: [{ line, col, path: 'repos[1].pollIntervalSeconds' }],
    });

    // Nothing of the rejected file was applied: its new token is unknown, both repos still work.
    expect(await statusAs(controller.url, never)).toBe(401);
    expect(await statusAs(controller.url, late)).toBe(200);
    expect((await push('app', 'still accepted')).status).toBe(202);
    expect(controller.repos.all().map((r) => r.config.name)).toEqual(['app', 'docs']);
  });

  it('removes a token: it gets 401 after the reload', async () => {
    await writeFile(file, configText({ tokens: [admin, viewer, deployer], docs: true }));
    const { status, body } = await reload(controller.url, admin);
    expect(status).toBe(200);
    expect(body).toMatchObject({ changes: { tokens: { removed: ['late'] } } });
    expect(await statusAs(controller.url, late)).toBe(401);
    expect(await statusAs(controller.url, viewer)).toBe(200);
  });

  it('reports a value that needs a restart without applying it, and applies the rest', async () => {
    const port = await freePort();
    await writeFile(file, configText({ tokens: [admin, viewer, deployer], port }));
    const { status, body } = await reload(controller.url, admin);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      applied: true,
      changes: { repos: { removed: ['docs'] }, needsRestart: ['listen.port'] },
    });
    // Still listening where it was; the removed repo's webhook is no longer accepted.
    expect(await statusAs(controller.url, viewer)).toBe(200);
    expect((await push('docs', 'after removal')).status).toBe(401);
    const shown = await fetch(`${controller.url}/api/config`, {
      headers: { authorization: `Bearer ${admin.value}` },
    });
    expect(((await shown.json()) as { repos: unknown[] }).repos).toHaveLength(1);
  });
});

describe('config reload on SIGHUP (gantry serve)', () => {
  const env = testEnv();
  const dir = path.join(env.runDir, uniqueName('hup'));
  const name = 'hup';
  const file = path.join(dir, `${name}.yaml`);
  const admin = token('root', 'admin');
  const late = token('late', 'viewer');
  let proc: ControllerProcess | undefined;
  let port = 0;

  const configText = (tokens: Token[], extra: string[] = []) =>
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      `redis: { url: "${env.redisUrl}", prefix: "${path.basename(dir)}" }`,
      `registry: { address: "${env.registry}" }`,
      `dataDir: "${path.join(dir, 'data')}"`,
      'deploy: { enabled: false }',
      tokensLine(tokens),
      ...extra,
      'repos: []',
      '',
    ].join('\n');

  beforeAll(async () => {
    proc = await spawnController({
      name,
      dir,
      configFor: (p) => {
        port = p;
        return configText([admin]);
      },
      logLevel: 'info',
    });
  });

  afterAll(async () => {
    await proc?.stop();
  });

  it('re-reads the file: a token added there works', async () => {
    expect(await statusAs(proc!.url, late)).toBe(401);
    await writeFile(file, configText([admin, late]));
    process.kill(proc!.pid, 'SIGHUP');
    await waitFor(
      'the token added by SIGHUP',
      async () => ((await statusAs(proc!.url, late)) === 200 ? true : undefined),
      15_000,
    );
    // The log is written asynchronously: the token may work before its line reaches the file.
    await waitFor(
      'the reload in the log',
      async () =>
        (await proc!.logLines()).some((l) => l.msg === 'config reloaded: tokens +late')
          ? true
          : undefined,
      15_000,
    );
    expect(await proc!.logTail(200)).not.toContain(hashToken(late.value));
  });

  it('logs an invalid file with file:line:col and keeps running on the config it has', async () => {
    const text = configText([admin], ['build: { concurrency: zero }']);
    await writeFile(file, text);
    process.kill(proc!.pid, 'SIGHUP');
    const rejected = await waitFor(
      'the rejected reload in the log',
      async () =>
        (await proc!.logLines()).find((l) => l.msg.startsWith('config reload rejected')) as
          LogLineWithErr | undefined,
      15_000,
    );
    const line = text.split('\n').findIndex((l) => l.startsWith('build:')) + 1;
    expect(rejected.err).toMatch(
      new RegExp(`^${escape(file)}:${line}:\\d+: build\\.concurrency must be`),
    );
    expect(proc!.exited()).toBe(false);
    expect(await statusAs(proc!.url, late)).toBe(200);
  });
});

type LogLineWithErr = { msg: string; err?: string };

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
