/**
 * `gantry serve` as real child processes, for the tests that kill a controller (kill -9), freeze
 * it (SIGSTOP) or run two of them against one Redis: an in-process controller cannot die halfway.
 * Also a rig around them: a git repo served over smart HTTP, the example app under a name of its
 * own, and the test's own view of Redis, the queues and the Docker engine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ForgeRepo } from '../../src/demo/forge.js';
import { Worktree } from '../../src/demo/worktree.js';
import { startCaddyPair, type CaddyPair } from '../../src/edge/supervisor/caddy-process.js';
import { freePort } from '../../src/process/daemon.js';
import { stopEdge } from '../../src/edge/supervisor/ensure-edge.js';
import {
  createBareRepo,
  startGitHttpServer,
  type GitHttpServer,
} from '../../src/demo/git-http-server.js';
import { createQueues, type Queues } from '../../src/queue/queues.js';
import { connectRedis } from '../../src/redis.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import type { Instance } from '../../src/runtime/runtime.js';
import {
  FINISHED_BUILD_STATUSES,
  type BuildRecord,
  type RolloutRecord,
} from '../../src/store/records.js';
import { RolloutStore } from '../../src/store/rollouts.js';
import { Store } from '../../src/store/store.js';
import { EXAMPLE, ROOT, waitFor } from './controller-fixture.js';
import { testEnv, uniqueName } from './env.js';

const BIN = path.join(ROOT, 'bin', 'gantry.js');

/** The spec with another health threshold (at a 1 s interval: ~N s until healthy). */
export function withHealthyThreshold(spec: string, n: number): string {
  return spec.replace(/healthyThreshold: \d+/, `healthyThreshold: ${n}`);
}
const READY_TIMEOUT_MS = 30_000;

/** One `node bin/gantry.js serve --config FILE` process. */
export interface ControllerProcess {
  readonly name: string;
  readonly pid: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Its stdout and stderr (pino JSON lines). */
  readonly logFile: string;
  /** SIGKILL to it and to everything it started (its process group); resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: frozen as by a long GC pause or a suspended VM; its timers and sockets stall. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** SIGTERM (graceful shutdown), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  exited(): boolean;
  logTail(lines?: number): Promise<string>;
  /** Its log so far, one parsed pino line each (lines that are not JSON are skipped). */
  logLines(): Promise<LogLine[]>;
}

/** The fields of a pino line the tests look at. */
export interface LogLine {
  readonly time: number;
  readonly level: number;
  readonly msg: string;
  readonly rollout?: string;
  /** The lease owner of the attempt that logged it (rollout actions). */
  readonly attempt?: string;
  readonly action?: string;
}

const live = new Set<ChildProcess>();
let exitHook = false;

// A test run that dies without its afterAll must not leave controllers behind acting on Docker.
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const child of live) signalGroup(child, 'SIGKILL');
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the whole group (detached children lead their own).
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts `gantry serve` with the config `configFor(port)` written to `dir/<name>.yaml`, on a port
 * picked here, and waits until `/healthz` answers. A port taken between picking and binding is
 * picked again.
 */
export async function spawnController(opts: {
  name: string;
  dir: string;
  configFor: (port: number) => string;
  logLevel?: string;
}): Promise<ControllerProcess> {
  await mkdir(opts.dir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configFile = path.join(opts.dir, `${opts.name}.yaml`);
    await writeFile(configFile, opts.configFor(port));
    const proc = launch(opts.name, opts.dir, configFile, port, opts.logLevel);
    try {
      await waitHealthy(proc);
      return proc;
    } catch (e) {
      await proc.kill();
      const tail = await proc.logTail(30);
      if (attempt < 3 && /EADDRINUSE/.test(tail)) continue;
      throw new Error(`${String(e)}\n--- ${proc.logFile} ---\n${tail}`, { cause: e });
    }
  }
}

function launch(
  name: string,
  dir: string,
  configFile: string,
  port: number,
  logLevel = process.env.GANTRY_TEST_LOG ?? 'debug',
): ControllerProcess {
  const logFile = path.join(dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], {
      cwd: dir,
      // Its own process group: kill() takes down whatever it spawned too, as a crash of the
      // controller's container or service unit would.
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, GANTRY_LOG_LEVEL: logLevel },
    });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  installExitHook();
  let status: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = signal ?? `exit code ${String(code)}`;
      live.delete(child);
      resolve();
    });
  });
  const gone = async (timeoutMs: number) => {
    await Promise.race([exited, sleep(timeoutMs)]);
  };
  return {
    name,
    pid: child.pid ?? -1,
    url: `http://127.0.0.1:${port}`,
    logFile,
    async kill() {
      if (status !== undefined) return;
      signalGroup(child, 'SIGKILL');
      await gone(10_000);
    },
    freeze: () => signalGroup(child, 'SIGSTOP'),
    thaw: () => signalGroup(child, 'SIGCONT'),
    async stop(graceMs = 5_000) {
      if (status !== undefined) return;
      signalGroup(child, 'SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
      await gone(graceMs + 5_000);
      clearTimeout(timer);
    },
    exited: () => status !== undefined,
    async logTail(lines = 40) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
    async logLines() {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return []; // the last line may be half written
        }
      });
    },
  };
}

async function waitHealthy(proc: ControllerProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exited()) throw new Error(`${proc.name} exited before answering /healthz`);
    try {
      const res = await fetch(`${proc.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
  throw new Error(`${proc.name} did not answer /healthz within ${READY_TIMEOUT_MS} ms`);
}

/** How the controllers of a rig reach the edge. */
export type EdgeMode =
  /** Each controller starts its own Caddy pair (the default `edge.manage: true`). */
  | 'managed'
  /** One Caddy pair started by the rig, shared by every controller (`edge.manage: false`). */
  | 'shared';

export interface RigOptions {
  /** The app's name in gantry.yaml: instances are found by app labels on the shared engine. */
  app: string;
  edge: EdgeMode;
  /** Rewrites the example's gantry.yaml (after `app:` is set). */
  spec?: (yaml: string) => string;
}

/**
 * Everything around the controller processes: the repo they watch, one Redis prefix, the edge
 * listener port, and the test's own connections to look at what they did.
 */
export interface Rig {
  readonly app: string;
  readonly env: 'production';
  readonly dir: string;
  readonly prefix: string;
  readonly wt: Worktree;
  /** The gantry.yaml first committed (the example's, under the rig's app name). */
  readonly spec: string;
  readonly redis: Redis;
  readonly store: Store;
  readonly rollouts: RolloutStore;
  readonly queues: Queues;
  readonly runtime: DockerRuntime;
  readonly caddy: CaddyPair | undefined;
  /** The config of a controller whose data lives in `dataDir` (one per host, or shared by restarts). */
  configFor(dataDir: string): (port: number) => string;
  /** Starts a controller; `dataDir` defaults to one shared by every controller of the rig. */
  start(name: string, dataDir?: string): Promise<ControllerProcess>;
  /** Commits what is staged (or an empty commit), pushes, and sends a signed webhook to `via`. */
  push(via: ControllerProcess, message: string): Promise<string>;
  /** Waits for the build of `sha` to end (succeeded, failed, reused, or superseded). */
  built(sha: string, timeoutMs?: number): Promise<BuildRecord>;
  /** Waits for the finished rollout of `sha` (the newest one, when there are several). */
  rolledOut(sha: string, timeoutMs?: number): Promise<RolloutRecord>;
  /** The app's instances in the environment as the engine reports them now. */
  instances(): Promise<Instance[]>;
  /** Every controller started, in order. */
  readonly processes: readonly ControllerProcess[];
  /** Kills the controllers, removes the app's containers, closes everything. */
  close(): Promise<void>;
}

export async function startRig(opts: RigOptions): Promise<Rig> {
  const env = testEnv();
  const name = uniqueName('p');
  const dir = path.join(env.runDir, name);
  const git: GitHttpServer = await startGitHttpServer({ root: path.join(dir, 'git') });
  await createBareRepo(path.join(dir, 'git'), 'app.git', 'main');
  const repoUrl = git.repoUrl('app.git');
  const secret = randomBytes(20).toString('hex');
  const prefix = name;
  const basePort = await freePort();
  const caddy =
    opts.edge === 'shared' ? await startCaddyPair({ dir: path.join(dir, 'edge') }) : undefined;

  const wt = await Worktree.clone(repoUrl, path.join(dir, 'clone'));
  await wt.copyFrom(EXAMPLE);
  const example = await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8');
  const named = example.replace('app: hello', `app: ${opts.app}`);
  const spec = opts.spec ? opts.spec(named) : named;
  await wt.write('gantry.yaml', spec);

  const redis = await connectRedis(env.redisUrl);
  const store = new Store(redis, prefix);
  const rollouts = new RolloutStore(redis, store.keys);
  const queues = await createQueues(redis, prefix, 1);
  const runtime = new DockerRuntime({
    hosts: [{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }],
  });
  const processes: ControllerProcess[] = [];
  // Each data directory a controller managed an edge in: that edge outlives the controllers.
  const edgeDirs = new Set<string>();
  const forge = new ForgeRepo({ repoUrl, fullName: 'acme/app', secret });

  const configFor =
    (dataDir: string) =>
    (port: number): string =>
      [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        `redis: { url: "${env.redisUrl}", prefix: "${prefix}" }`,
        `registry: { address: "${env.registry}" }`,
        `dataDir: "${dataDir}"`,
        caddy
          ? `edge: { manage: false, frontAdminUrl: "${caddy.front.adminUrl}", backAdminUrl: "${caddy.back.adminUrl}", logDir: "${caddy.logDir}", basePort: ${basePort} }`
          : `edge: { basePort: ${basePort} }`,
        'deploy: { tickMs: 200 }',
        'build: { debounceMs: 200 }',
        'repos:',
        '  - name: app',
        `    url: "${repoUrl}"`,
        `    webhookSecret: "${secret}"`,
        '',
      ].join('\n');

  const rig: Rig = {
    app: opts.app,
    env: 'production',
    dir,
    prefix,
    wt,
    spec,
    redis,
    store,
    rollouts,
    queues,
    runtime,
    caddy,
    processes,
    configFor,
    async start(procName, dataDir = path.join(dir, 'data')) {
      if (!caddy) edgeDirs.add(path.join(dataDir, 'edge'));
      const proc = await spawnController({
        name: procName,
        dir: path.join(dir, 'controllers'),
        configFor: configFor(dataDir),
      });
      processes.push(proc);
      return proc;
    },
    async push(via, message) {
      const sha = await wt.commit(message);
      await wt.push();
      await forge.accepted(via.url, 'github', sha, message);
      return sha;
    },
    built(sha, timeoutMs = 120_000) {
      return waitFor(
        `a finished build of ${sha.slice(0, 12)}`,
        async () =>
          (await store.listBuilds(opts.app)).find(
            (b) => b.sha === sha && FINISHED_BUILD_STATUSES.includes(b.status),
          ),
        timeoutMs,
      );
    },
    rolledOut(sha, timeoutMs = 120_000) {
      return waitFor(
        `a finished rollout of ${sha.slice(0, 12)}`,
        async () => {
          const all = await rollouts.list(opts.app, 'production');
          return all.find((r) => r.to.sha === sha && r.outcome !== undefined);
        },
        timeoutMs,
      );
    },
    instances: () => runtime.list({ app: opts.app, env: 'production' }),
    async close() {
      await Promise.all(processes.map((p) => p.kill()));
      for (const i of await runtime.list({ app: opts.app }).catch(() => [])) {
        await runtime.remove(i).catch(() => undefined);
      }
      await queues.close().catch(() => undefined);
      redis.disconnect();
      await caddy?.stop();
      for (const edgeDir of edgeDirs) await stopEdge(edgeDir);
      await git.close();
    },
  };
  return rig;
}
