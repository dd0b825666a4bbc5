/**
 * bench/many-apps: N small apps (one repository and one replica each, examples/hello) on one
 * `gantry serve` process. Every app is deployed once (setup), then pushes one change on a
 * schedule spread evenly over a window, with a signed webhook each. Then the controller is left
 * idle. Reports, each beside its goal (issue 15):
 * - queue pickup: a job's ready time (added + delay) → a worker took it, per queue, p50/p99;
 * - push → build start: webhook accepted → build record `startedAt`, max and p99, with
 *   build.concurrency 2 and every layer cached (the push changes a file the image leaves out);
 * - the controller's RSS and CPU (share of one core) while idle with N apps, reconciler included;
 * - Redis memory per app and per 1,000 history records (MEMORY USAGE of every key, by kind).
 *
 *   npx tsx bench/many-apps.ts [--apps 100] [--window 120] [--idle 30] [--profile DIR]
 *
 * Bounded (each wait at most 5 min; `--apps 30 --window 60` took 5 min on the loaded 2-core
 * machine, 100 apps ~10 min); loopback only; removes the containers and images of its apps,
 * and everything else it started.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Job } from 'bullmq';
import { createBareRepo } from '../src/demo/git-http-server.js';
import { ForgeRepo } from '../src/demo/forge.js';
import { freePort } from '../src/demo/services.js';
import { Worktree } from '../src/demo/worktree.js';
import { stopEdge } from '../src/edge/supervisor/ensure-edge.js';
import { createQueues, type Queues } from '../src/queue/queues.js';
import { connectRedis } from '../src/redis.js';
import { DockerRuntime } from '../src/runtime/docker/docker-runtime.js';
import { RolloutStore } from '../src/store/rollouts.js';
import { Store } from '../src/store/store.js';
import { spawnController, type ControllerProcess } from '../test/support/controller-process.js';
import { startBackends } from './lib/backends.js';
import { summarizeFile } from './lib/cpu-profile.js';
import { idleUse } from './lib/proc-stats.js';
import { bytesOf, memoryByKind } from './lib/redis-memory.js';
import { removeApps } from './lib/remove-apps.js';
import { quantile } from './lib/samples.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLE = path.join(ROOT, 'examples', 'hello');
const SETTLE_TIMEOUT_MS = 300_000;

const { values } = parseArgs({
  options: {
    apps: { type: 'string', default: '100' },
    window: { type: 'string', default: '120' },
    idle: { type: 'string', default: '30' },
    // A directory: the controller is CPU-profiled over the idle window, and writes its memory
    // breakdown and a heap snapshot at the end of it (bench/lib/profile-hook.mjs).
    profile: { type: 'string' },
    // What --profile covers: the idle window (default) or the schedule of pushes.
    'profile-phase': { type: 'string', default: 'idle' },
  },
});
const PROFILE = values.profile === undefined ? undefined : path.resolve(values.profile);
const PROFILE_PHASE = values['profile-phase'] === 'schedule' ? 'schedule' : 'idle';
/** Starts the controller's profiler, or stops it and has it write (bench/lib/profile-hook.mjs). */
const toggleProfiler = (pid: number, phase: typeof PROFILE_PHASE) => {
  if (PROFILE && phase === PROFILE_PHASE) process.kill(pid, 'SIGUSR2');
};
const APPS = Math.max(1, Math.min(200, Number(values.apps)));
const WINDOW_S = Math.max(1, Math.min(240, Number(values.window)));
const IDLE_S = Math.max(5, Math.min(120, Number(values.idle)));

interface AppSide {
  name: string;
  repo: string;
  wt: Worktree;
  forge: ForgeRepo;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (t: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function spec(original: string, app: string): string {
  return original
    .replace(/^app: .*$/m, `app: ${app}`)
    .replace(/replicas: \d+/, 'replicas: 1')
    .replace(/interval: 1s/, 'interval: 2s')
    .replace(/healthyThreshold: \d+/, 'healthyThreshold: 1');
}

const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${quantile(s, 0.5).toFixed(0)} ms, p99 ${quantile(s, 0.99).toFixed(0)} ms, max ${(s.at(-1) ?? Number.NaN).toFixed(0)} ms (n=${s.length})`;
};

/** Every finished job's pickup delay: ready (added + delay) → taken by a worker. */
async function pickups(queues: Queues): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, q] of Object.entries({
    sources: queues.sources,
    builds: queues.builds,
    rollouts: queues.rollouts,
  })) {
    const jobs = (await q.getJobs(['completed', 'failed', 'active'], 0, 5000)) as Job[];
    out[name] = jobs
      .filter((j) => j.processedOn !== undefined)
      .map((j) => j.processedOn! - (j.timestamp + (j.delay ?? 0)));
  }
  return out;
}

/** The idle window's CPU profile by owner and function, and the memory breakdown (`--profile`). */
async function profileReport(dir: string, phase: string): Promise<void> {
  // The heap snapshot blocks the controller while it writes; `done` follows it.
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (!(await stat(path.join(dir, 'done')).catch(() => undefined)) && Date.now() < deadline)
    await sleep(1_000);
  const summary = await summarizeFile(path.join(dir, 'idle.cpuprofile'));
  console.log('');
  console.log(`${phase} CPU profile: ${summary.totalMs.toFixed(0)} ms sampled (${dir})`);
  for (const [o, ms] of summary.byOwner.slice(0, 15))
    console.log(`  ${o.padEnd(40)} ${ms.toFixed(0).padStart(7)} ms`);
  console.log('top functions (self):');
  for (const [f, ms] of summary.byFunction.slice(0, 25))
    console.log(`  ${f.slice(0, 70).padEnd(70)} ${ms.toFixed(0).padStart(7)} ms`);
  console.log(`memory breakdown: ${path.join(dir, 'memory.json')}, heap snapshot beside it`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const dir = path.resolve('.gantry', 'bench', `many-apps-${Date.now()}`);
  const tag = randomBytes(2).toString('hex');
  const prefix = `ma${tag}`;
  const stops: (() => Promise<void>)[] = [];
  const apps: AppSide[] = [];
  const runtime = new DockerRuntime({
    hosts: [{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }],
  });
  let controller: ControllerProcess | undefined;
  try {
    const { services, git, secret } = await startBackends(dir, stops);
    const redis = await connectRedis(services.redis.url);
    stops.push(async () => redis.disconnect());
    const store = new Store(redis, prefix);
    const rollouts = new RolloutStore(redis, store.keys);
    const queues = await createQueues(redis, prefix, 1);
    stops.push(() => queues.close());
    const original = await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8');

    for (let i = 0; i < APPS; i++) {
      const repo = `r${i}`;
      await createBareRepo(path.join(dir, 'git'), `${repo}.git`, 'main');
      apps.push({
        name: `ma${tag}-${i}`,
        repo,
        wt: undefined as unknown as Worktree,
        forge: new ForgeRepo({
          repoUrl: git.repoUrl(`${repo}.git`),
          fullName: `acme/${repo}`,
          secret,
        }),
      });
    }
    await pool(apps, 8, async (a) => {
      a.wt = await Worktree.clone(git.repoUrl(`${a.repo}.git`), path.join(dir, 'clones', a.repo));
      await a.wt.copyFrom(EXAMPLE);
      await a.wt.write('gantry.yaml', spec(original, a.name));
      await a.wt.commit('first');
      await a.wt.push();
    });

    const edgeDir = path.join(dir, 'data', 'edge');
    stops.push(() => stopEdge(edgeDir));
    const basePort = await freePort();
    const configFor = (port: number) =>
      [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        `redis: { url: "${services.redis.url}", prefix: "${prefix}" }`,
        `registry: { address: "${services.registry.address}" }`,
        `dataDir: "${path.join(dir, 'data')}"`,
        `edge: { basePort: ${basePort} }`,
        'build: { concurrency: 2 }',
        'repos:',
        ...apps.map(
          (a) =>
            `  - { name: ${a.repo}, url: "${git.repoUrl(`${a.repo}.git`)}", webhookSecret: "${secret}" }`,
        ),
        '',
      ].join('\n');
    const idleBefore = Date.now();
    const nodeOptions = process.env.NODE_OPTIONS;
    if (PROFILE) {
      await mkdir(PROFILE, { recursive: true });
      process.env.GANTRY_PROFILE_DIR = PROFILE;
      process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --import ${path.join(ROOT, 'bench', 'lib', 'profile-hook.mjs')}`;
    }
    try {
      controller = await spawnController({
        name: 'many',
        dir: path.join(dir, 'controller'),
        configFor,
        logLevel: 'warn',
      });
    } finally {
      if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = nodeOptions;
    }
    const c = controller;
    console.log(
      `many-apps: ${APPS} apps (1 replica each, examples/hello), one controller (pid ${c.pid}), build.concurrency 2; node ${process.version}`,
    );
    console.log(`controller up in ${((Date.now() - idleBefore) / 1000).toFixed(1)} s`);

    /** Waits until every app's rollout of its `sha` has ended; returns how many succeeded. */
    const settle = async (shas: Map<string, string>): Promise<number> => {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      const left = new Map(shas);
      let ok = 0;
      while (left.size > 0 && Date.now() < deadline) {
        for (const [app, sha] of left) {
          const rec = (await rollouts.list(app, 'production').catch(() => [])).find(
            (r) => r.to.sha === sha && r.outcome !== undefined,
          );
          if (!rec) continue;
          left.delete(app);
          if (rec.outcome === 'succeeded') ok++;
        }
        await sleep(1000);
      }
      return ok;
    };

    // Setup: every app's first deploy, all pushed at once (not measured beyond its duration).
    const t1 = Date.now();
    const firsts = new Map<string, string>();
    await pool(apps, 8, async (a) => {
      const sha = await a.wt.git('rev-parse', 'HEAD');
      firsts.set(a.name, sha);
      await a.forge.accepted(c.url, 'github', sha, 'first');
    });
    const deployed = await settle(firsts);
    console.log(
      `setup: ${deployed}/${APPS} apps deployed in ${((Date.now() - t1) / 1000).toFixed(0)} s (first builds, all at once)`,
    );

    // The schedule: one push per app, spread evenly over the window.
    const hooked = new Map<string, { sha: string; at: number }>();
    const t2 = Date.now();
    toggleProfiler(c.pid, 'schedule');
    await Promise.all(
      apps.map(async (a, i) => {
        await sleep((i * WINDOW_S * 1000) / APPS);
        // Outside www/: the image's layers are all cached, as for most pushes to a busy fleet.
        await a.wt.write('CHANGES.md', `${a.name}: one more change\n`);
        const sha = await a.wt.commit('change');
        await a.wt.push();
        await a.forge.accepted(c.url, 'github', sha, 'change');
        hooked.set(a.name, { sha, at: Date.now() });
      }),
    );
    const changed = await settle(new Map([...hooked].map(([app, h]) => [app, h.sha])));
    toggleProfiler(c.pid, 'schedule');
    console.log(
      `schedule: ${APPS} pushes over ${WINDOW_S} s (${(APPS / WINDOW_S).toFixed(2)}/s); ${changed}/${APPS} rolled out; all done ${((Date.now() - t2) / 1000).toFixed(0)} s after the first push`,
    );

    const waits: number[] = [];
    const runs: number[] = [];
    for (const a of apps) {
      const h = hooked.get(a.name);
      const b = h && (await store.listBuilds(a.name, 5)).find((r) => r.sha === h.sha);
      if (h && b?.startedAt) waits.push(Date.parse(b.startedAt) - h.at);
      if (b?.startedAt && b.finishedAt)
        runs.push(Date.parse(b.finishedAt) - Date.parse(b.startedAt));
    }
    const picked = await pickups(queues);

    // Idle: no pushes and no jobs left; the reconciler and health probes are all that runs.
    const drainedBy = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const counts = await Promise.all(
        [queues.sources, queues.builds, queues.rollouts].map((q) =>
          q.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
        ),
      );
      const left = counts.flatMap((c) => Object.values(c)).reduce((a, b) => a + b, 0);
      if (left === 0 || Date.now() > drainedBy) break;
      await sleep(1_000);
    }
    await sleep(5_000);
    toggleProfiler(c.pid, 'idle');
    const idle = await idleUse(c.pid, IDLE_S);
    toggleProfiler(c.pid, 'idle');

    const byKind = await memoryByKind(redis, prefix);
    const total = [...byKind.values()].reduce((a, v) => a + v.bytes, 0);
    const historyKinds = [
      'rollout',
      'rollout-events',
      'rollouts',
      'rollouts-of',
      'rollouts-by-sha',
    ];
    const records = byKind.get('rollout')?.keys ?? 0;
    const history = bytesOf(byKind, historyKinds);
    const info = await redis.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);

    console.log('');
    console.log(
      'figure                                   | measured                                     | goal',
    );
    console.log(
      `queue pickup, sources (sync)             | ${fmt(picked['sources'] ?? [])} | p99 ≤ 50 ms`,
    );
    console.log(
      `queue pickup, rollouts                   | ${fmt(picked['rollouts'] ?? [])} | p99 ≤ 50 ms`,
    );
    console.log(`queue wait, builds (ready → started)     | ${fmt(picked['builds'] ?? [])} | —`);
    console.log(`push (webhook accepted) → build started  | ${fmt(waits)} | max ≤ 10 s`);
    console.log(`build run (started → finished)           | ${fmt(runs)} | —`);
    console.log(
      `controller idle, ${APPS} apps, ${IDLE_S} s          | CPU ${(idle.cpu * 100).toFixed(1)} % of one core, RSS ${idle.rss.toFixed(0)} MB | ≤ 5 %, ≤ 300 MB`,
    );
    console.log(
      `Redis, under the prefix                  | ${(total / 1024).toFixed(0)} KiB in all, ${(total / APPS / 1024).toFixed(1)} KiB per app (used_memory ${(used / 1048576).toFixed(1)} MiB) | —`,
    );
    console.log(
      `Redis, history                           | ${records} rollout records: ${(((history / Math.max(1, records)) * 1000) / 1048576).toFixed(2)} MiB per 1,000 | —`,
    );
    console.log('');
    console.log('Redis by kind (KiB, keys):');
    for (const [kind, v] of [...byKind].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 15)) {
      console.log(
        `  ${kind.padEnd(24)} ${(v.bytes / 1024).toFixed(0).padStart(8)} ${String(v.keys).padStart(6)}`,
      );
    }
    if (PROFILE) await profileReport(PROFILE, PROFILE_PHASE);
    console.log(
      `whole bench: ${((Date.now() - started) / 1000).toFixed(0)} s; controller log ${c.logFile}`,
    );
  } finally {
    await controller?.kill();
    await removeApps(
      runtime,
      apps.map((a) => a.name),
    );
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(path.join(dir, 'services'), { recursive: true, force: true });
  }
}

await main();
