/**
 * bench/rollout-zero-downtime: a steady load on the edge (autocannon at a fixed rate, in separate
 * processes) while Gantry rolls a 4-replica app to a new revision, and while it rolls a revision
 * whose health check fails back by itself. Next to it, in the same run: the same good and bad
 * update done by Docker Swarm (start-first, rollback on failure, the same health check) as the
 * peer for durations, and a naive stop-then-start replacement behind the same Caddy as the
 * control for failed requests.
 *
 *   npx tsx bench/rollout-zero-downtime.ts [--rate 500] [--post-rate 50] [--steady 10]
 *     [--connections 32] [--spread 10] [--no-swarm] [--no-naive] [--events]
 *
 * The load is GET / plus a share of POST /cgi-bin/info: the edge retries a failed GET on another
 * instance, never a POST, so the POSTs show every reset or refused connection a rollout causes.
 * Prints, per row: the rollout's duration, failure-detection time (first failing check that
 * counted → old revision fully back), requests answered, failed ones (non-2xx, resets, timeouts)
 * by method, and p99 GET latency during the rollout against steady state. Bounded in time;
 * traffic goes to 127.0.0.1 only; removes the containers, service and images it created.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { freePort } from '../src/demo/services.js';
import type { RolloutState } from '../src/rollout/index.js';
import type { RolloutRecord } from '../src/store/records.js';
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
import { outlierNote, printTable, seconds, shellJoin, type Row } from './lib/report.js';
import * as swarm from './lib/swarm.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLE = path.join(ROOT, 'examples', 'hello');

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    'post-rate': { type: 'string', default: '50' },
    steady: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    spread: { type: 'string', default: '10' },
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
const REPLICAS = 4;
/** Load before the change and after the rollout ends, so its edges are inside the window. */
const MARGIN_MS = 1_000;
const ROLLOUT_TIMEOUT_MS = 150_000;
/** The health check, for both Gantry (gantry.yaml) and Swarm (--health-*). */
const HEALTH = { intervalS: 1, timeoutS: 1, startPeriodS: 2, retries: 3 };
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
): Promise<RolloutRecord> {
  const sha = await g.wt.commit(message);
  const { value: rec, load } = await underLoad(url, async () => {
    await g.pushHead(sha, message);
    return g.finishedRollout(app, sha, ROLLOUT_TIMEOUT_MS);
  });
  const from = iso(rec.createdAt);
  const to = iso(rec.finishedAt);
  const d = detection(rec);
  rows.push({
    name,
    rolloutMs: to - from,
    ...(d ? { detectMs: d.restored - d.firstFail } : {}),
    load: mixStats(load),
    during: mixStats(load, from, to),
  });
  pushNote(outlierNote(name, load, from));
  notes.push(
    `${name}: ${rec.outcome} (${rec.reason ?? ''}); push → rollout finished ${seconds(to - load.get.startedAt - MARGIN_MS)} s, build included`,
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
  return rec;
}

async function gantryPart(g: GantryStack, app: string, swarmImages: Record<string, string>) {
  const spec = await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8');
  await g.wt.copyFrom(EXAMPLE);
  await g.wt.write('gantry.yaml', gantrySpec(spec, app));
  await g.wt.write('www/index.html', '<h1>revision 1</h1>\n');
  await dockerBuild(g.wt.dir, swarmImages.good1!);
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
  const steadyLoad = await runMix(mix(url), STEADY_S);
  const steady = mixStats(steadyLoad);
  rows.push({ name: 'gantry: steady state (no rollout)', load: steady, during: steady });
  pushNote(
    outlierNote('gantry: steady state', steadyLoad, steadyLoad.get.startedAt, 'the load start'),
  );

  await g.wt.write('www/index.html', '<h1>revision 2</h1>\n');
  await dockerBuild(g.wt.dir, swarmImages.good2!);
  const good = await gantryRollout(
    g,
    app,
    url,
    `gantry: ${REPLICAS}-replica rolling update`,
    'revision 2',
  );

  // The broken revision serves pages but not its health check.
  await rm(path.join(g.wt.dir, 'www', 'healthz'));
  await g.wt.write('www/index.html', '<h1>revision 3 (bad)</h1>\n');
  await dockerBuild(g.wt.dir, swarmImages.bad!);
  await gantryRollout(
    g,
    app,
    url,
    'gantry: bad update → automatic rollback',
    'revision 3, no /healthz',
  );

  const after = await g.controller.rollouts.env(app, 'production');
  const running = (await g.controller.runtime!.list({ app, env: 'production' })).filter(
    (i) => i.state === 'running',
  );
  const label = (sha: string | undefined) => (sha === good.to.sha ? 'revision 2' : sha);
  notes.push(
    `gantry: after the rollback, current = ${label(after.current?.sha)}; running: ${running.length} × ${[...new Set(running.map((i) => label(i.revision)))].join(', ')}`,
  );
  return {
    steady,
    images: { good1: initial.to.image, good2: good.to.image },
    revisions: { good1: first, good2: good.to.sha },
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

async function swarmPart(app: string, images: Record<string, string>) {
  let initialised = false;
  const service = `${app}-swarm`;
  let created = false;
  try {
    ({ initialised } = await swarm.ensureSwarm());
    if (initialised) commands.push(`docker ${swarm.swarmInitArgs().join(' ')}`);
    const spec: swarm.SwarmServiceSpec = {
      name: service,
      image: images.good1!,
      replicas: REPLICAS,
      health: { cmd: 'wget -q -O /dev/null http://127.0.0.1:8080/healthz', ...HEALTH },
      monitorS: 1,
    };
    commands.push(`docker ${shellJoin(swarm.serviceCreateArgs(spec))}`);
    await swarm.docker(swarm.serviceCreateArgs(spec));
    created = true;
    await swarm.waitRunning(service, images.good1!, REPLICAS, 60_000);

    commands.push(`docker ${shellJoin(swarm.serviceUpdateImageArgs(service, images.good2!))}`);
    const good = await swarm.updateAndWait(service, images.good2!, {
      timeoutMs: ROLLOUT_TIMEOUT_MS,
    });
    rows.push({
      name: `swarm: ${REPLICAS}-replica start-first update`,
      rolloutMs: good.endedAt - good.startedAt,
    });
    notes.push(`swarm: update ended ${good.status.State} (${good.status.Message ?? ''})`);

    commands.push(`docker ${shellJoin(swarm.serviceUpdateImageArgs(service, images.bad!))}`);
    const bad = await swarm.updateAndWait(service, images.bad!, { timeoutMs: ROLLOUT_TIMEOUT_MS });
    const firstFail = await swarm.firstCountedFailure(
      service,
      images.bad!,
      HEALTH.startPeriodS * 1000,
    );
    rows.push({
      name: 'swarm: bad update → rollback',
      rolloutMs: bad.endedAt - bad.startedAt,
      ...(firstFail === undefined ? {} : { detectMs: bad.endedAt - firstFail }),
    });
    notes.push(`swarm: bad update ended ${bad.status.State} (${bad.status.Message ?? ''})`);
    const back = (await swarm.tasks(service)).filter(
      (t) => t.desired === 'Running' && t.current.startsWith('Running'),
    );
    notes.push(
      `swarm: after the rollback, running: ${back.length} × ${[...new Set(back.map((t) => t.image))].join(', ')}`,
    );
  } catch (e) {
    notes.push(`swarm: not measured: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    if (created) await swarm.docker(swarm.serviceRemoveArgs(service)).catch(() => undefined);
    if (initialised) {
      // Tasks must be gone before the node leaves, or their containers linger.
      await sleep(2_000);
      await swarm.docker(swarm.swarmLeaveArgs()).catch(() => undefined);
    }
  }
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
      `autocannon in separate processes; ${REPLICAS} replicas of examples/hello; health GET /healthz every ${HEALTH.intervalS}s, ` +
      `start period ${HEALTH.startPeriodS}s, ${HEALTH.retries} failures → unhealthy; ` +
      `docker ${dockerVersion.trim()}, caddy ${caddyVersion.trim().split(' ')[0]}, node ${process.version}`,
  );
  const g = await startGantryStack({ dir, tickMs: 200, logLevel: process.env.GANTRY_BENCH_LOG });
  let steady: MixStats | undefined;
  try {
    const r = await gantryPart(g, app, swarmImages);
    steady = r.steady;
    if (!values['no-naive']) await naivePart(g, app, r.images, r.revisions);
    if (!values['no-swarm']) await swarmPart(app, swarmImages);
  } finally {
    const runtime = g.controller.runtime;
    if (runtime) {
      for (const i of await runtime.list({ app })) await runtime.remove(i).catch(() => undefined);
      for (const host of runtime.hosts()) {
        await runtime.removeImages(host, [], app).catch(() => undefined);
      }
    }
    await g.close();
    await run('docker', ['rmi', ...Object.values(swarmImages)]).catch(() => undefined);
    // The registry's blobs and Redis's files are of no use afterwards; the edge's logs are.
    await rm(path.join(dir, 'services'), { recursive: true, force: true });
  }

  console.log('');
  printTable(rows, steady);
  console.log('');
  console.log(
    [
      'requests, failed: every answer from 1 s before the change to 1 s after the rollout ended; failed = non-2xx,',
      'resets and timeouts. ≥1 s: answers that took a second or more (GET and POST). The edge retries a failed',
      'GET on another instance for up to 5 s, never a POST.',
      '≥1 s, p99 GET (of 2xx answers): during the rollout itself. rollout s: Gantry from its rollout record',
      '(created → finished, the build before it not included), Swarm from `docker service update` to the end',
      'state (polled every 100 ms). detect s: first failing check that counted (after the start period) → old',
      'revision fully back. Swarm carries no load (its routing mesh needs IPVS): it is the peer for durations.',
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
