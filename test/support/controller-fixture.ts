import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { expect } from 'vitest';
import { hashToken } from '../../src/api/auth.js';
import { api, type ClientOptions } from '../../src/cli/client.js';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { startController, type Controller } from '../../src/controller.js';
import { ForgeRepo } from '../../src/demo/forge.js';
import { Worktree } from '../../src/demo/worktree.js';
import {
  createBareRepo,
  startGitHttpServer,
  type GitHttpServer,
} from '../../src/demo/git-http-server.js';
import type { Provider } from '../../src/source/webhooks/index.js';
import type { BuildRecord, RolloutRecord } from '../../src/store/records.js';
import { freePort } from '../../src/process/daemon.js';
import { stopEdge } from '../../src/edge/supervisor/ensure-edge.js';
import { buildContractImage } from '../contract/runtime-contract.js';
import { testEnv, uniqueName, type TestEnv } from './env.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLE = path.join(ROOT, 'examples', 'hello');

export interface FixtureOptions {
  /** Extra YAML lines merged into the repo entry (e.g. `pollIntervalSeconds: 1`). */
  repo?: string[];
  /** Extra top-level YAML lines (e.g. `build: { attempts: 2 }`). */
  config?: string[];
  registry?: string;
  /** Extra entries of the `registry:` mapping (e.g. `username: gantry, passwordEnv: PW`). */
  registryEntries?: string[];
  redisUrl?: string;
  /** Run rollouts after builds (starts a supervised Caddy edge, stopped by close(); default false). */
  deploy?: boolean;
  /** Extra entries of the controller's `edge:` mapping with `deploy` (e.g. `httpsPort: 18443`). */
  edge?: string[];
  /** Write the controller's log (debug level, pino JSON) to this file. */
  logFile?: string;
  /** Seed the repo with the example app at the root (default true). */
  seed?: boolean;
  /** Follow a second repo, `other` (its own worktree, unseeded; same webhook secret). */
  secondRepo?: boolean;
}

/** The second repo a fixture follows when asked (`secondRepo`). */
export interface SecondRepo {
  name: 'other';
  repoUrl: string;
  wt: Worktree;
  /** Commits what is staged in `wt`, pushes, and sends a signed webhook for `other`. */
  push(provider: Provider, message: string): Promise<string>;
}

/** A controller wired to a private git repo over smart HTTP, the run's Redis and registry. */
export interface Fixture {
  controller: Controller;
  git: GitHttpServer;
  repoUrl: string;
  wt: Worktree;
  secret: string;
  token: string;
  /** Viewer token. */
  client: ClientOptions;
  /** Deployer token: may deploy, roll back, pause, resume, abort. */
  deployer: ClientOptions;
  /** Admin token: may also read the configuration. */
  admin: ClientOptions;
  prefix: string;
  /** The controller's data directory (its managed edge lives in `edge/` under it). */
  dataDir: string;
  /** Commits what is staged (or an empty commit), pushes, and sends a signed webhook. */
  push(provider: Provider, message: string, opts?: { webhook?: boolean }): Promise<string>;
  /** Set with `secondRepo`. */
  second?: SecondRepo;
  close(): Promise<void>;
}

export async function startFixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const env = testEnv();
  const name = uniqueName('t');
  const dir = path.join(env.runDir, name);
  const git = await startGitHttpServer({ root: path.join(dir, 'git') });
  await createBareRepo(path.join(dir, 'git'), 'app.git', 'main');
  const repoUrl = git.repoUrl('app.git');
  if (opts.secondRepo) await createBareRepo(path.join(dir, 'git'), 'other.git', 'main');
  const otherUrl = git.repoUrl('other.git');
  const secret = randomBytes(20).toString('hex');
  const token = randomBytes(20).toString('hex');
  const deployerToken = randomBytes(20).toString('hex');
  const adminToken = randomBytes(20).toString('hex');
  const prefix = name;
  const config = parseControllerConfig(
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      `redis: { url: "${opts.redisUrl ?? env.redisUrl}", prefix: "${prefix}" }`,
      `registry: { ${[`address: "${opts.registry ?? env.registry}"`, ...(opts.registryEntries ?? [])].join(', ')} }`,
      `dataDir: "${path.join(dir, 'data')}"`,
      `tokens: [{ name: tester, role: viewer, hash: "${hashToken(token)}" }, { name: ci, role: deployer, permissions: [deploy:any-branch, unlock], hash: "${hashToken(deployerToken)}" }, { name: root, role: admin, hash: "${hashToken(adminToken)}" }]`,
      opts.deploy
        ? `edge: { ${[`basePort: ${await freePort()}`, ...(opts.edge ?? [])].join(', ')} }\ndeploy: { tickMs: 200 }`
        : 'deploy: { enabled: false }',
      ...(opts.config ?? []),
      'repos:',
      `  - name: app`,
      `    url: "${repoUrl}"`,
      `    webhookSecret: "${secret}"`,
      ...(opts.repo ?? []).map((l) => `    ${l}`),
      ...(opts.secondRepo
        ? [`  - name: other`, `    url: "${otherUrl}"`, `    webhookSecret: "${secret}"`]
        : []),
    ].join('\n'),
  );
  // A log file when a test reads what the controller logged (the secrets audit does).
  const log = opts.logFile
    ? pino({ level: 'debug' }, pino.destination({ dest: opts.logFile, sync: true }))
    : pino({ level: process.env.GANTRY_TEST_LOG ?? 'silent' });
  const controller = await startController(config, { log, closeGraceMs: 3000 });
  const wt = await Worktree.clone(repoUrl, path.join(dir, 'clone'));
  if (opts.seed !== false) await wt.copyFrom(EXAMPLE);
  const forge = new ForgeRepo({ repoUrl, fullName: 'acme/app', secret });
  let second: SecondRepo | undefined;
  if (opts.secondRepo) {
    const otherWt = await Worktree.clone(otherUrl, path.join(dir, 'other-clone'));
    const otherForge = new ForgeRepo({ repoUrl: otherUrl, fullName: 'acme/other', secret });
    second = {
      name: 'other',
      repoUrl: otherUrl,
      wt: otherWt,
      async push(provider, message) {
        const sha = await otherWt.commit(message);
        await otherWt.push();
        await otherForge.accepted(controller.url, provider, sha, message);
        return sha;
      },
    };
  }
  const fixture: Fixture = {
    controller,
    git,
    repoUrl,
    wt,
    secret,
    token,
    prefix,
    dataDir: path.join(dir, 'data'),
    client: { url: controller.url, token },
    deployer: { url: controller.url, token: deployerToken },
    admin: { url: controller.url, token: adminToken },
    ...(second ? { second } : {}),
    async push(provider, message, pushOpts = {}) {
      const sha = await wt.commit(message);
      await wt.push();
      if (pushOpts.webhook !== false) await forge.accepted(controller.url, provider, sha, message);
      return sha;
    },
    async close() {
      await controller.close();
      // The managed edge outlives its controller by design; the test's must not outlive the test.
      await stopEdge(path.join(dir, 'data', 'edge'));
      await git.close();
    },
  };
  return fixture;
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

const DONE = ['succeeded', 'failed', 'superseded', 'reused', 'skipped'];

/** Waits for the build of `sha` to finish and returns it. */
export function finishedBuild(
  f: Fixture,
  app: string,
  sha: string,
  timeoutMs?: number,
): Promise<BuildRecord> {
  return waitFor(
    `a finished build of ${app}@${sha.slice(0, 12)}`,
    async () => {
      const { builds } = await api<{ builds: BuildRecord[] }>(f.client, `/api/apps/${app}/builds`);
      return builds.find((b) => b.sha === sha && DONE.includes(b.status));
    },
    timeoutMs,
  );
}

/** Waits for the rollout of `sha` to `env` to end and returns its record. */
export function finishedRollout(
  f: Fixture,
  app: string,
  sha: string,
  env = 'production',
): Promise<RolloutRecord> {
  return waitFor(
    `a finished rollout of ${app}@${sha.slice(0, 12)}`,
    async () =>
      (await f.controller.rollouts.list(app, env)).find(
        (r) => r.to.sha === sha && r.outcome !== undefined,
      ),
    180_000,
  );
}

/** Waits for the rollout `id` to end and returns its record. */
export function rolloutEnded(f: Fixture, id: string): Promise<RolloutRecord> {
  return waitFor(
    `rollout ${id} to finish`,
    async () => {
      const r = await f.controller.rollouts.get(id);
      return r?.outcome ? r : undefined;
    },
    180_000,
  );
}

/** Removes every container of `app` (tests share one Docker engine), then closes the fixture. */
export async function closeWithInstances(f: Fixture | undefined, app: string): Promise<void> {
  const runtime = f?.controller.runtime;
  // The controller first: a running reconciler would replace what is removed under it.
  await f?.close();
  if (runtime) for (const i of await runtime.list({ app })) await runtime.remove(i);
}

/** A fresh app name (no dashes): instances are found by app label on the shared Docker engine. */
export function appName(prefix: string): string {
  return uniqueName(prefix).replace(/-/g, '');
}

export interface FastSpecOptions {
  /** Default 1. */
  replicas?: number;
  /** Extra top-level YAML lines (e.g. `environments:` and its entries). */
  lines?: string[];
}

/** A `gantry.yaml` for `app` on port 8080 whose health check passes within a few seconds. */
export function fastSpec(app: string, { replicas = 1, lines = [] }: FastSpecOptions = {}): string {
  return [
    `app: ${app}`,
    `run: { port: 8080, replicas: ${replicas} }`,
    'health: { http: { path: /healthz }, interval: 1s, startPeriod: 2s, healthyThreshold: 2 }',
    ...lines,
  ].join('\n');
}

/** The example app's `gantry.yaml`, renamed to `app`. */
export async function exampleSpec(app: string): Promise<string> {
  const spec = await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8');
  return spec.replace('app: hello', `app: ${app}`);
}

/** A deploying fixture whose worktree holds `gantry.yaml` as `spec`, to go out with the first push. */
async function startDeployFixture(spec: string, opts: FixtureOptions): Promise<Fixture> {
  const f = await startFixture({ ...opts, deploy: true });
  try {
    await f.wt.write('gantry.yaml', spec);
  } catch (e) {
    await f.close();
    throw e;
  }
  return f;
}

/** A deploying fixture whose worktree holds `fastSpec(app, spec)`, to go out with the first push. */
export function startAppFixture(app: string, spec: FastSpecOptions = {}): Promise<Fixture> {
  return startDeployFixture(fastSpec(app, spec), {});
}

/** A deploying fixture whose worktree holds the example app's spec renamed to `app`. */
export async function startExampleFixture(
  app: string,
  opts: FixtureOptions = {},
): Promise<Fixture> {
  return startDeployFixture(await exampleSpec(app), opts);
}

/** Pushes what is staged (GitHub webhook) and expects its build to succeed; returns the sha. */
export async function pushBuilt(f: Fixture, app: string, message: string): Promise<string> {
  const sha = await f.push('github', message);
  expect((await finishedBuild(f, app, sha)).status).toBe('succeeded');
  return sha;
}

/** Writes `html` as `www/index.html`, then {@link pushBuilt}. */
export async function pushPageBuilt(
  f: Fixture,
  app: string,
  html: string,
  message: string,
): Promise<string> {
  await f.wt.write('www/index.html', html);
  return pushBuilt(f, app, message);
}

/** {@link pushPageBuilt}, then expects its rollout to production to succeed. */
export async function pushPageDeployed(
  f: Fixture,
  app: string,
  html: string,
  message: string,
): Promise<string> {
  const sha = await pushPageBuilt(f, app, html, message);
  expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
  return sha;
}

/** Commits what is staged onto `branch` and sends its signed GitHub webhook; returns the sha. */
export async function pushBranch(f: Fixture, branch: string, message: string): Promise<string> {
  const sha = await f.wt.commit(message);
  await f.wt.push(branch);
  const forge = new ForgeRepo({
    repoUrl: f.repoUrl,
    fullName: 'acme/app',
    secret: f.secret,
    branch,
  });
  await forge.accepted(f.controller.url, 'github', sha, message);
  return sha;
}

/**
 * Two environments on two branches, both running: what is staged deployed to production from
 * `main`, then a child commit on `staging` (pushed with a GitHub webhook) deployed to staging.
 * The repo must list both branches. Returns both shas; the worktree is left on `staging`.
 */
export async function deployMainAndStaging(
  f: Fixture,
  app: string,
): Promise<{ prod: string; staging: string }> {
  const prod = await pushBuilt(f, app, 'production on main');
  expect((await finishedRollout(f, app, prod, 'production')).outcome).toBe('succeeded');
  // A child commit on the staging branch: its build rolls out to staging only.
  await f.wt.write('www/index.html', '<h1>staging</h1>\n');
  const staging = await pushBranch(f, 'staging', 'staging on staging');
  expect((await finishedBuild(f, app, staging)).status).toBe('succeeded');
  expect((await finishedRollout(f, app, staging, 'staging')).outcome).toBe('succeeded');
  return { prod, staging };
}

/** The runtime contract app built and pushed (version 1) as a repo named after `prefix`. */
export async function contractImageOf(
  prefix: string,
): Promise<{ env: TestEnv; repo: string; image: string }> {
  const env = testEnv();
  const repo = uniqueName(prefix);
  const image = await buildContractImage({
    registry: env.registry,
    app: repo,
    version: '1',
    dir: path.join(env.runDir, repo),
  });
  return { env, repo, image };
}
