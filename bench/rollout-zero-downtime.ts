/**
 * bench/rollout-zero-downtime: a steady load on the edge (autocannon at a fixed rate, in separate
 * processes) while Gantry rolls a 4-replica app to a new revision, and while it rolls a revision
 * whose health check fails back by itself. Next to it, in the same run: the same good and bad
 * update done by Docker Swarm (start-first, rollback on failure, the same health check) as the
 * peer for durations, compared with Gantry's update without load (like for like: Swarm carries
 * none), and a naive stop-then-start replacement behind the same Caddy as the control for failed
 * requests.
 *
 *   npx tsx bench/rollout-zero-downtime.ts [--rate 500] [--post-rate 50] [--steady 10]
 *     [--connections 32] [--spread 10] [--runs 1] [--cost-seconds 5] [--no-swarm] [--no-naive]
 *     [--events]
 *
 * The app is bench/app: a static Go server (standard library, built here with CGO_ENABLED=0 and
 * copied onto the local busybox base), whose own capacity is far above the offered rate, so the
 * bench measures Gantry rather than the app. Before the rollouts it measures that capacity (one
 * instance, unthrottled) and the edge's added latency: GETs at the offered rate straight to one
 * instance and through the edge, p50 and p99 of each.
 *
 * The load is GET / plus a share of POST /cgi-bin/info: the edge retries a failed GET on another
 * instance, never a POST, so the POSTs show every reset or refused connection a rollout causes.
 * `--runs N` repeats the loaded good update N times and prints the failures of each run.
 * Prints, per row: the rollout's duration, failure-detection time (first failing check that
 * counted → old revision fully back), requests answered, failed ones (non-2xx, resets, timeouts)
 * by method, and p99 GET latency during the rollout against steady state; and the floor,
 * replicas × (container start + healthyThreshold × interval), beside Gantry's and Swarm's update.
 * Bounded in time; traffic goes to 127.0.0.1 only; removes the containers, service and images it
 * created.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { freePort } from '../src/demo/services.js';
import { upstreamOf } from '../src/deploy/observe.js';
import type { RolloutState } from '../src/rollout/index.js';
import type { RolloutRecord } from '../src/store/records.js';
import { containerStartMs } from './lib/container-start.js';
import { edgeCostLines, measureEdgeCost, type EdgeCost } from './lib/edge-cost.js';
import { startGantryStack, type GantryStack } from './lib/gantry-stack.js';
import {
  mixStats,
  runMix,
  startMix,
  type MixOptions,
  type MixResult,
  type MixStats,
} from './lib/mixed-load.js';
import { naiveReplace, startNaiveFleet } from './lib/naive.js';
import { outlierNote, printTable, seconds, type Row } from './lib/report.js';
import { prepareStaticApp } from './lib/static-app.js';
import { swarmRollouts } from './lib/swarm-rollout.js';

const run = promisify(execFile);
const APP_SPEC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'app', 'gantry.yaml');

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    'post-rate': { type: 'string', default: '50' },
    steady: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    spread: { type: 'string', default: '10' },
    runs: { type: 'string', default: '1' },
    'cost-seconds': { type: 'string', default: '5' },
    'no-swarm': { type: 'boolean', default: false },
    'no-naive': { type: 'boolean', default: false },
    events: { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const POST_RATE = Number(values['post-rate']);
const STEADY_S = Number(values.steady);
const CONNECTIONS = Number(values.connections);
const SPREAD = Number(values.spread);
const RUNS = Math.min(20, Math.max(1, Number(values.runs)));
const COST_S = Math.min(30, Math.max(1, Number(values['cost-seconds'])));
const REPLICAS = 4;
/** Load before the change and after the rollout ends, so its edges are inside the window. */
const MARGIN_MS = 1_000;
const ROLLOUT_TIMEOUT_MS = 150_000;
/** The health check, for both Gantry (bench/app/gantry.yaml) and Swarm (--health-*). */
const HEALTH = { intervalS: 1, timeoutS: 1, startPeriodS: 2, retries: 3 };
/** bench/app/gantry.yaml's healthyThreshold, for the floor. */
const HEALTHY_THRESHOLD = 2;
/** `docker stop`'s default grace; the naive control stops with it, as a script would. */
const STOP_TIMEOUT_S = 10;

const rows: Row[] = [];
const notes: string[] = [];
const commands: string[] = [];

function pushNote(note: string | undefined): void {
  if (note !== undefined) notes.push(note);
}

function mix(url: string): MixOptions {
  return {
    url,
    rate: RATE,
    postRate: POST_RATE,
    getPath: '/',
    postPath: '/cgi-bin/info',
    connections: CONNECTIONS,
    spread: SPREAD,
  };
}

/** Holds the load on `url` while `work` runs (plus a margin on each side). */
async function underLoad<T>(
  url: string,
  work: () => Promise<T>,
): Promise<{ value: T; load: MixResult }> {
  const load = await startMix(mix(url), ROLLOUT_TIMEOUT_MS / 1000 + 60);
  try {
    await sleep(MARGIN_MS);
    const value = await work();
    await sleep(MARGIN_MS);
    return { value, load: await load.stop() };
  } catch (e) {
    await load.stop().catch(() => undefined);
    throw e;
  }
}

function gantrySpec(original: string, app: string): string {
  return original
    .replace(/^app: .*$/m, `app: ${app}`)
    .replace(/replicas: \d+/, `replicas: ${REPLICAS}`);
}

/** Builds the worktree as a local image for Swarm (same Dockerfile and files as Gantry builds). */
async function dockerBuild(dir: string, tag: string): Promise<void> {
  await run('docker', ['build', '-q', '-t', tag, dir], { maxBuffer: 16 * 1024 * 1024 });
}

function iso(ms: string | undefined): number {
  const t = ms === undefined ? Number.NaN : Date.parse(ms);
  if (Number.isNaN(t)) throw new Error(`not a timestamp: ${ms}`);
  return t;
}

/** First failing probe that counted against the bad instance → the rollout's end (restored). */
function detection(
  rec: RolloutRecord,
): { firstFail: number; declared: number; restored: number } | undefined {
  const state = rec.state as RolloutState | undefined;
  const failure = state?.failure;
  const finished = state?.finished;
  if (!failure || !finished) return undefined;
  // The tally keeps the last unhealthyThreshold results: the failures that counted.
  const fails =
    failure.check === 'unhealthy' ? failure.probes.filter((p) => !p.ok).map((p) => p.at) : [];
  const firstFail = fails.length > 0 ? Math.min(...fails) : failure.at;
  return { firstFail, declared: failure.at, restored: finished.at };
}

async function gantryRollout(
  g: GantryStack,
  app: string,
  url: string,
  name: string,
  message: string,
  loaded = true,
): Promise<{ rec: RolloutRecord; row: Row }> {
  const sha = await g.wt.commit(message);
  const pushed = Date.now();
  const rollout = async () => {
    await g.pushHead(sha, message);
    return g.finishedRollout(app, sha, ROLLOUT_TIMEOUT_MS);
  };
  const { value: rec, load } = loaded
    ? await underLoad(url, rollout)
    : { value: await rollout(), load: undefined };
  const from = iso(rec.createdAt);
  const to = iso(rec.finishedAt);
  const d = detection(rec);
  const row: Row = {
    name,
    rolloutMs: to - from,
    ...(d ? { detectMs: d.restored - d.firstFail } : {}),
    ...(load ? { load: mixStats(load), during: mixStats(load, from, to) } : {}),
  };
  rows.push(row);
  if (load) pushNote(outlierNote(name, load, from));
  notes.push(
    `${name}: ${rec.outcome} (${rec.reason ?? ''}); push → rollout finished ${seconds(to - pushed)} s, build included`,
  );
  if (d) {
    notes.push(
      `${name}: first counted failing check → declared failed ${seconds(d.declared - d.firstFail)} s → old revision fully back ${seconds(d.restored - d.declared)} s`,
    );
  }
  if (values.events) {
    for (const e of await g.controller.rollouts.events(rec.id)) {
      notes.push(`${name}: +${seconds(e.at - from)} s ${e.kind}: ${e.text}`);
    }
  }
  return { rec, row };
}

/** Writes revision `n`'s page; the Swarm image of it too when `tag` is given. */
async function revision(g: GantryStack, n: number, tag?: string): Promise<void> {
  await g.wt.write('www/index.html', `<h1>revision ${n}</h1>\n`);
  if (tag !== undefined) await dockerBuild(g.wt.dir, tag);
}

interface GantryFigures {
  steady: MixStats;
  cost: EdgeCost;
  unloadedMs: number;
  loaded: Row[];
  images: { good1: string; good2: string };
  revisions: { good1: string; good2: string };
}

async function gantryPart(
  g: GantryStack,
  app: string,
  swarmImages: Record<string, string>,
): Promise<GantryFigures> {
  const { go } = await prepareStaticApp(g.wt.dir);
  notes.push(`app: bench/app built with ${go} (CGO_ENABLED=0, standard library only)`);
  await g.wt.write('gantry.yaml', gantrySpec(await readFile(APP_SPEC, 'utf8'), app));
  await revision(g, 1, swarmImages.good1);
  const first = await g.wt.commit('revision 1');
  await g.pushHead(first, 'revision 1');
  const initial = await g.finishedRollout(app, first, ROLLOUT_TIMEOUT_MS);
  if (initial.outcome !== 'succeeded') {
    throw new Error(`first rollout ${initial.outcome}: ${initial.reason}`);
  }
  const env = await g.controller.rollouts.env(app, 'production');
  const url = env.route?.url;
  if (!url) throw new Error('the environment has no route');
  notes.push(
    `gantry: first deploy of ${REPLICAS} replicas took ${seconds(iso(initial.finishedAt) - iso(initial.createdAt))} s; edge ${url}`,
  );

  // Warm the edge's connections before measuring anything.
  await runMix(mix(url), 2);
  const one = (await g.controller.runtime!.list({ app, env: 'production' }))
    .map(upstreamOf)
    .find((u) => u !== undefined);
  if (one === undefined) throw new Error('no instance to measure directly');
  const cost = await measureEdgeCost({
    instance: `http://${one}`,
    edge: url,
    path: '/',
    rate: RATE,
    seconds: COST_S,
    connections: CONNECTIONS,
    spread: SPREAD,
  });
  const steadyLoad = await runMix(mix(url), STEADY_S);
  const steady = mixStats(steadyLoad);
  rows.push({ name: 'gantry: steady state (no rollout)', load: steady, during: steady });
  pushNote(
    outlierNote('gantry: steady state', steadyLoad, steadyLoad.get.startedAt, 'the load start'),
  );

  // Like for like with Swarm, which carries no load: the same update, nothing else running.
  await revision(g, 2, swarmImages.good2);
  const unloaded = await gantryRollout(
    g,
    app,
    url,
    `gantry: ${REPLICAS}-replica rolling update, no load`,
    'revision 2',
    false,
  );
  const loaded: Row[] = [];
  let last = unloaded.rec;
  for (let run = 1; run <= RUNS; run++) {
    await revision(g, 2 + run);
    const suffix = RUNS > 1 ? `, run ${run}/${RUNS}` : '';
    const r = await gantryRollout(
      g,
      app,
      url,
      `gantry: ${REPLICAS}-replica rolling update under load${suffix}`,
      `revision ${2 + run}`,
    );
    loaded.push(r.row);
    last = r.rec;
  }

  // The broken revision serves pages but not its health check.
  await rm(path.join(g.wt.dir, 'www', 'healthz'));
  await revision(g, 99, swarmImages.bad);
  await gantryRollout(
    g,
    app,
    url,
    'gantry: bad update → automatic rollback',
    'revision 99, no /healthz',
  );

  const after = await g.controller.rollouts.env(app, 'production');
  const running = (await g.controller.runtime!.list({ app, env: 'production' })).filter(
    (i) => i.state === 'running',
  );
  const label = (sha: string | undefined) => (sha === last.to.sha ? 'the last good revision' : sha);
  notes.push(
    `gantry: after the rollback, current = ${label(after.current?.sha)}; running: ${running.length} × ${[...new Set(running.map((i) => label(i.revision)))].join(', ')}`,
  );
  return {
    steady,
    cost,
    unloadedMs: unloaded.row.rolloutMs ?? Number.NaN,
    loaded,
    images: { good1: initial.to.image, good2: unloaded.rec.to.image },
    revisions: { good1: first, good2: unloaded.rec.to.sha },
  };
}

async function naivePart(
  g: GantryStack,
  app: string,
  images: { good1: string; good2: string },
  revisions: { good1: string; good2: string },
) {
  const { runtime, edge } = g.controller;
  if (!runtime || !edge) throw new Error('the controller has no runtime or edge');
  const routeId = `${app}-naive`;
  const { url } = await edge.ensureRoute({
    id: routeId,
    listen: { host: '127.0.0.1', port: await freePort() },
  });
  const naiveApp = `${app}naive`;
  try {
    const fleet = await startNaiveFleet(
      {
        runtime,
        edge,
        routeId,
        base: {
          app: naiveApp,
          env: 'bench',
          port: 8080,
          vars: {},
          secrets: {},
          host: runtime.hosts()[0]!,
          stopTimeoutSeconds: STOP_TIMEOUT_S,
        },
      },
      revisions.good2,
      images.good2,
      REPLICAS,
    );
    await runMix(mix(url), 2);
    let window = { from: 0, to: 0 };
    const { load } = await underLoad(url, async () => {
      const from = Date.now();
      await naiveReplace(fleet, revisions.good1, images.good1, STOP_TIMEOUT_S);
      window = { from, to: Date.now() };
    });
    rows.push({
      name: `naive stop-then-start, ${REPLICAS} replicas (control)`,
      rolloutMs: window.to - window.from,
      load: mixStats(load),
      during: mixStats(load, window.from, window.to),
    });
    pushNote(outlierNote(rows.at(-1)!.name, load, window.from));
  } finally {
    for (const i of await runtime.list({ app: naiveApp })) await runtime.remove(i);
    await edge.removeRoute(routeId);
  }
}

/** replicas × (container start + healthyThreshold × interval): what no rolling update beats with maxSurge 1. */
function floorMs(startMs: number): number {
  return REPLICAS * (startMs + HEALTHY_THRESHOLD * HEALTH.intervalS * 1000);
}

/** The like-for-like comparison, the floor beside both, and the failures of every loaded run. */
function summary(r: GantryFigures, startMs: number, swarmMs: number | undefined): string[] {
  const floor = floorMs(startMs);
  const beyond = (r.unloadedMs - floor) / REPLICAS;
  const failures = r.loaded.map((row) => {
    const post = row.load?.post?.failed ?? 0;
    return `${row.load?.get.failed ?? 0}/${post}`;
  });
  const total = r.loaded.reduce(
    (n, row) => n + (row.load?.get.failed ?? 0) + (row.load?.post?.failed ?? 0),
    0,
  );
  const requests = r.loaded.reduce(
    (n, row) => n + (row.load?.get.requests ?? 0) + (row.load?.post?.requests ?? 0),
    0,
  );
  return [
    `floor: ${REPLICAS} × (container start ${seconds(startMs)} s + ${HEALTHY_THRESHOLD} × ${HEALTH.intervalS} s interval) = ${seconds(floor)} s`,
    `rolling update, no load: gantry ${seconds(r.unloadedMs)} s` +
      (swarmMs === undefined
        ? ''
        : `, swarm ${seconds(swarmMs)} s, ratio ${(r.unloadedMs / swarmMs).toFixed(2)}×`) +
      `; floor ${seconds(floor)} s; gantry per replica ${beyond >= 0 ? '+' : ''}${(beyond / 1000).toFixed(2)} s vs the floor`,
    `loaded runs: ${r.loaded.length}; failed GET/POST per run: ${failures.join(' ')}; ${total} failed of ${requests}`,
    ...edgeCostLines(r.cost, COST_S),
  ];
}

async function main() {
  const started = Date.now();
  const app = `zd${randomBytes(3).toString('hex')}`;
  const dir = path.resolve('.gantry', 'bench', `zero-downtime-${Date.now()}`);
  const swarmImages = {
    good1: `gantry-bench/${app}:good1`,
    good2: `gantry-bench/${app}:good2`,
    bad: `gantry-bench/${app}:bad`,
  };
  const { stdout: dockerVersion } = await run('docker', [
    'version',
    '--format',
    '{{.Server.Version}}',
  ]);
  const { stdout: caddyVersion } = await run('caddy', ['version']);
  console.log(
    `rollout-zero-downtime: ${RATE} req/s on the edge (GET / at ${RATE - POST_RATE}/s, POST /cgi-bin/info at ${POST_RATE}/s), ` +
      `autocannon in separate processes; ${REPLICAS} replicas of bench/app (static Go server); health GET /healthz every ${HEALTH.intervalS}s, ` +
      `start period ${HEALTH.startPeriodS}s, ${HEALTH.retries} failures → unhealthy; ` +
      `docker ${dockerVersion.trim()}, caddy ${caddyVersion.trim().split(' ')[0]}, node ${process.version}`,
  );
  const g = await startGantryStack({ dir, tickMs: 200, logLevel: process.env.GANTRY_BENCH_LOG });
  let figures: GantryFigures | undefined;
  let startMs: number | undefined;
  let swarmMs: number | undefined;
  try {
    figures = await gantryPart(g, app, swarmImages);
    startMs = await containerStartMs(swarmImages.good1);
    if (!values['no-naive']) await naivePart(g, app, figures.images, figures.revisions);
    if (!values['no-swarm']) {
      const s = await swarmRollouts({
        service: `${app}-swarm`,
        images: swarmImages,
        replicas: REPLICAS,
        health: HEALTH,
        healthCmd: 'wget -q -O /dev/null http://127.0.0.1:8080/healthz',
        timeoutMs: ROLLOUT_TIMEOUT_MS,
      });
      rows.push(...s.rows);
      notes.push(...s.notes);
      commands.push(...s.commands);
      swarmMs = s.goodMs;
    }
  } finally {
    // The controller first: its reconciler would start again what is removed under it.
    const runtime = g.controller.runtime;
    await g.close();
    if (runtime) {
      for (const i of await runtime.list({ app })) await runtime.remove(i).catch(() => undefined);
      for (const host of runtime.hosts()) {
        await runtime.removeImages(host, [], app).catch(() => undefined);
      }
    }
    await run('docker', ['rmi', ...Object.values(swarmImages)]).catch(() => undefined);
    // The registry's blobs and Redis's files are of no use afterwards; the edge's logs are.
    await rm(path.join(dir, 'services'), { recursive: true, force: true });
  }

  console.log('');
  printTable(rows, figures?.steady);
  console.log('');
  if (figures && startMs !== undefined) {
    for (const line of summary(figures, startMs, swarmMs)) console.log(line);
  }
  console.log('');
  console.log(
    [
      'requests, failed: every answer from 1 s before the change to 1 s after the rollout ended; failed = non-2xx,',
      'resets and timeouts. ≥1 s: answers that took a second or more (GET and POST). The edge retries a failed',
      'GET on another instance for up to 5 s, never a POST.',
      '≥1 s, p99 GET (of 2xx answers): during the rollout itself. rollout s: Gantry from its rollout record',
      '(created → finished, the build before it not included), Swarm from `docker service update` to the end',
      'state (polled every 100 ms). detect s: first failing check that counted (after the start period) → old',
      'revision fully back. Swarm carries no load (its routing mesh needs IPVS): it is the peer for durations,',
      "compared with Gantry's update without load. container start: median of 3 `docker run -d` of the app image.",
    ].join('\n'),
  );
  for (const n of notes) console.log(`- ${n}`);
  console.log('');
  console.log('commands:');
  console.log(
    `  load: autocannon, fixed overall rate, one process per method (bench/lib/load.ts): GET <edge>/ ${RATE - POST_RATE}/s, ` +
      `${CONNECTIONS} connections; POST <edge>/cgi-bin/info ${POST_RATE}/s; each rate split over ${SPREAD} ` +
      "autocannon instances started 1/n s apart (one instance sends a whole second's quota as one burst)",
  );
  console.log(
    '  gantry: git push + signed GitHub push webhook → build → rollout (maxSurge 1, maxUnavailable 0)',
  );
  console.log(
    `  naive: per instance: docker stop (${STOP_TIMEOUT_S} s grace) + rm, start the new one, swap it into the route`,
  );
  for (const c of commands) console.log(`  ${c}`);
  console.log(`edge access and error logs: ${path.join(dir, 'data', 'edge')}`);
  console.log(`whole bench: ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
