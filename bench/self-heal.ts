/**
 * bench/self-heal: how fast Gantry's reconciler and edge supervisor put things back, next to
 * Docker Swarm doing the same in the same run.
 *
 *   npx tsx bench/self-heal.ts [--reps 3] [--rate 50] [--no-swarm]
 *
 * With 3 replicas of examples/hello (busybox httpd, health GET /healthz every 1 s) on each side:
 * - an instance removed (`docker rm -f`), stopped (`docker stop`), killed (`docker kill`) or
 *   turned unhealthy (`rm /www/healthz` inside it): fault → 3 healthy instances routed again
 *   (Gantry) or 3 healthy tasks running again (Swarm, with its default 5 s restart delay and with
 *   0 s), and for the unhealthy one fault → unrouted;
 * - the back and the front Caddy killed with SIGKILL: kill → the app answers through the edge;
 * - the controller stopped (SIGTERM) or killed (kill -9) and started again, under a fixed-rate
 *   GET load through the edge: failed / total requests.
 * Each fault is repeated `--reps` times; the table shows median and max. Gantry runs as
 * `gantry serve` child processes with the default reconcile settings. Traffic goes to 127.0.0.1
 * and to the containers this run created only; everything it started is removed at the end, on
 * failure and on Ctrl-C too.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { readEdgeState } from '../src/edge/supervisor/edge-state.js';
import type { Tier } from '../src/edge/caddy/names.js';
import { answersAfter, startFixedRate, type FixedRateResult } from '../test/support/fixed-rate.js';
import { startGantryProcesses, type GantryProcesses } from './lib/gantry-processes.js';
import { shellJoin } from './lib/report.js';
import * as swarm from './lib/swarm.js';
import { faultArgs, settled, swarmFault, type SwarmFault } from './lib/swarm-heal.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLE = path.join(ROOT, 'examples', 'hello');

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    rate: { type: 'string', default: '50' },
    'no-swarm': { type: 'boolean', default: false },
  },
});
const REPS = Math.min(10, Math.max(1, Number(values.reps)));
const RATE = Math.min(200, Number(values.rate));
const REPLICAS = 3;
/** The example's health check (gantry.yaml), given to Swarm's HEALTHCHECK as well. */
const HEALTH = { intervalS: 1, timeoutS: 1, startPeriodS: 2, retries: 3 };
const REPAIR_TIMEOUT_MS = 90_000;
/** Load before the fault and after the repair, so both edges are inside the window. */
const MARGIN_MS = 1_000;
/** After a controller restart, the load goes on this long (the new one adopts the edge). */
const AFTER_RESTART_MS = 3_000;

type Fault = 'rm' | 'stop' | 'kill' | 'unhealthy';
const FAULTS: readonly { fault: Fault; label: string }[] = [
  { fault: 'rm', label: 'instance removed (docker rm -f)' },
  { fault: 'stop', label: 'instance stopped (docker stop)' },
  { fault: 'kill', label: 'instance killed (docker kill)' },
  { fault: 'unhealthy', label: 'instance unhealthy (rm /www/healthz)' },
];

/** Samples of one row, per side; absent when that side was not measured. */
interface Row {
  label: string;
  gantry: number[];
  swarm?: number[];
  swarm0?: number[];
  /** Requests through the edge during the fault windows, summed. */
  load?: { failed: number; total: number };
}

const rows = new Map<string, Row>();
/** Teardowns, last registered first; run once, by the normal end, a failure or Ctrl-C. */
const undo: (() => Promise<void>)[] = [];

/** Set by Ctrl-C: the run stops at the next repetition instead of going on beside the teardown. */
let interrupted = false;

async function undoAll(): Promise<void> {
  for (let step = undo.pop(); step; step = undo.pop()) await step().catch(() => undefined);
}
const notes: string[] = [];
const commands: string[] = [];

function row(label: string): Row {
  let r = rows.get(label);
  if (!r) rows.set(label, (r = { label, gantry: [] }));
  return r;
}

function addLoad(r: Row, res: FixedRateResult): void {
  r.load = { failed: (r.load?.failed ?? 0) + res.failed, total: (r.load?.total ?? 0) + res.total };
  if (res.failed > 0) {
    const why = [...new Set(res.failures.map((f) => f.why))].join(', ');
    notes.push(`${r.label}: ${res.failed}/${res.total} failed (${why})`);
  }
}

// ---------------------------------------------------------------- Gantry

interface GantryEnv {
  g: GantryProcesses;
  app: string;
  sha: string;
  routeId: string;
  url: string;
}

/** Instances of the release that run and that the edge routes (the victim only if restarted). */
async function serving(e: GantryEnv, victim?: { id: string; since: number }) {
  const [list, ups] = await Promise.all([e.g.instances(e.app), e.g.upstreams(e.routeId)]);
  return list.filter(
    (i) =>
      i.state === 'running' &&
      i.revision === e.sha &&
      ups.includes(`127.0.0.1:${i.hostPort}`) &&
      (victim === undefined || i.id !== victim.id || (i.startedAt ?? 0) > victim.since),
  );
}

/** Waits for exactly the replicas, all running and routed, nothing else left. */
async function gantrySettled(e: GantryEnv) {
  const deadline = Date.now() + REPAIR_TIMEOUT_MS;
  for (;;) {
    const [all, up, ok] = await Promise.all([
      e.g.instances(e.app),
      e.g.upstreams(e.routeId),
      serving(e),
    ]);
    if (ok.length === REPLICAS && all.length === REPLICAS && up.length === REPLICAS) return ok;
    if (Date.now() > deadline) {
      throw new Error(
        `gantry: not settled: ${ok.length} serving of ${all.length}, ${up.length} routed`,
      );
    }
    await sleep(200);
  }
}

async function gantryFault(e: GantryEnv, fault: Fault, label: string): Promise<void> {
  const [victim] = await gantrySettled(e);
  if (!victim) throw new Error('no instance to break');
  const upstream = `127.0.0.1:${victim.hostPort}`;
  const load = startFixedRate(e.url, RATE);
  try {
    await sleep(MARGIN_MS);
    const t0 = Date.now();
    await run('docker', faultArgs(fault, victim.id));
    if (fault === 'unhealthy') {
      while ((await e.g.upstreams(e.routeId)).includes(upstream)) {
        if (Date.now() - t0 > REPAIR_TIMEOUT_MS) throw new Error('never unrouted');
        await sleep(50);
      }
      row(`${label} → unrouted`).gantry.push(Date.now() - t0);
    }
    for (;;) {
      if ((await serving(e, { id: victim.id, since: t0 })).length >= REPLICAS) break;
      if (Date.now() - t0 > REPAIR_TIMEOUT_MS) throw new Error(`${fault}: not repaired`);
      await sleep(100);
    }
    row(label).gantry.push(Date.now() - t0);
    await sleep(MARGIN_MS);
  } finally {
    addLoad(row(label), await load.stop());
  }
}

async function edgeKill(e: GantryEnv, tier: Tier): Promise<void> {
  const label = `${tier} Caddy killed (kill -9) → answers through the edge`;
  const pid = (await readEdgeState(e.g.edgeDir))[tier]?.pid;
  if (pid === undefined) throw new Error(`no ${tier} pid in ${e.g.edgeDir}/edge.json`);
  const load = startFixedRate(e.url, RATE);
  try {
    await sleep(MARGIN_MS);
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    row(label).gantry.push(await answersAfter(e.url, t0, REPAIR_TIMEOUT_MS));
    await sleep(MARGIN_MS);
  } finally {
    addLoad(row(label), await load.stop());
  }
  // The supervisor writes the new pid once the tier serves again.
  for (let i = 0; i < 100 && (await readEdgeState(e.g.edgeDir))[tier]?.pid === pid; i++) {
    await sleep(100);
  }
}

async function controllerRestart(e: GantryEnv, how: 'sigterm' | 'kill'): Promise<void> {
  const label =
    how === 'sigterm'
      ? 'controller SIGTERM, then started again'
      : 'controller kill -9, then started again';
  await gantrySettled(e);
  const old = e.g.current();
  if (!old) throw new Error('no controller running');
  const load = startFixedRate(e.url, RATE);
  try {
    await sleep(2 * MARGIN_MS);
    const t0 = Date.now();
    if (how === 'sigterm') await old.stop();
    else await old.kill();
    const gone = Date.now();
    await e.g.start();
    // The controller's downtime: signal → the next one answers /healthz.
    row(label).gantry.push(Date.now() - t0);
    notes.push(`${label}: exited after ${gone - t0} ms, next one up ${Date.now() - gone} ms later`);
    await sleep(AFTER_RESTART_MS);
  } finally {
    addLoad(row(label), await load.stop());
  }
}

async function gantryPart(g: GantryProcesses, app: string): Promise<void> {
  const spec = (await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8'))
    .replace(/^app: .*$/m, `app: ${app}`)
    .replace(/replicas: \d+/, `replicas: ${REPLICAS}`);
  await g.wt.copyFrom(EXAMPLE);
  await g.wt.write('gantry.yaml', spec);
  await g.start();
  const sha = await g.push('self-heal bench');
  const rec = await g.rolledOut(app, sha, 180_000);
  if (rec.outcome !== 'succeeded') throw new Error(`first rollout ${rec.outcome}: ${rec.reason}`);
  const route = (await g.rollouts.env(app, 'production')).route;
  if (!route) throw new Error('the environment has no route');
  const e: GantryEnv = { g, app, sha, routeId: route.id, url: route.url };
  notes.push(`gantry: edge ${route.url}, controller logs in ${path.join(g.dir, 'controllers')}`);
  for (const { fault, label } of FAULTS) {
    for (let i = 0; i < REPS; i++)
      await attempt(`gantry ${label} #${i + 1}`, () => gantryFault(e, fault, label));
  }
  for (const tier of ['back', 'front'] as const) {
    for (let i = 0; i < REPS; i++)
      await attempt(`gantry ${tier} Caddy #${i + 1}`, () => edgeKill(e, tier));
  }
  for (const how of ['sigterm', 'kill'] as const) {
    for (let i = 0; i < REPS; i++) {
      await attempt(`gantry controller ${how} #${i + 1}`, () => controllerRestart(e, how));
    }
  }
}

/** Runs one repetition; a failed one is noted and the bench goes on to the next. */
async function attempt(name: string, fn: () => Promise<void>): Promise<void> {
  if (interrupted) throw new Error('interrupted');
  try {
    await fn();
  } catch (err) {
    notes.push(`${name}: not measured: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ---------------------------------------------------------------- Swarm

async function swarmPart(image: string, app: string): Promise<void> {
  let initialised = false;
  const created: string[] = [];
  // `swarm init` also creates docker_gwbridge, which `swarm leave` keeps: ours goes too.
  const hadGwBridge = await swarm
    .docker(['network', 'inspect', 'docker_gwbridge'])
    .then(() => true)
    .catch(() => false);
  const teardown = async () => {
    for (const s of created) await swarm.docker(swarm.serviceRemoveArgs(s)).catch(() => undefined);
    if (initialised) {
      // Tasks must be gone before the node leaves, or their containers linger.
      await sleep(3_000);
      await swarm.docker(swarm.swarmLeaveArgs()).catch(() => undefined);
      if (!hadGwBridge) {
        await swarm.docker(['network', 'rm', 'docker_gwbridge']).catch(() => undefined);
      }
    }
  };
  undo.push(teardown);
  try {
    ({ initialised } = await swarm.ensureSwarm());
    if (initialised) commands.push(`docker ${swarm.swarmInitArgs().join(' ')}`);
    for (const restartDelayS of [undefined, 0]) {
      const service = `${app}-swarm${restartDelayS ?? ''}`;
      const spec: swarm.SwarmServiceSpec = {
        name: service,
        image,
        replicas: REPLICAS,
        health: { cmd: 'wget -q -O /dev/null http://127.0.0.1:8080/healthz', ...HEALTH },
        monitorS: 1,
        ...(restartDelayS === undefined ? {} : { restartDelayS }),
      };
      commands.push(`docker ${shellJoin(swarm.serviceCreateArgs(spec))}`);
      await swarm.docker(swarm.serviceCreateArgs(spec));
      created.push(service);
      await settled(service, REPLICAS, 60_000);
      for (const { fault, label } of FAULTS) {
        for (let i = 0; i < REPS; i++) {
          await attempt(`${service} ${label} #${i + 1}`, async () => {
            const r = await swarmFault(service, REPLICAS, fault as SwarmFault, REPAIR_TIMEOUT_MS);
            const side = restartDelayS === undefined ? 'swarm' : 'swarm0';
            (row(label)[side] ??= []).push(r.runningMs);
            (row(`${label} → new task answers (Swarm only)`)[side] ??= []).push(r.answersMs);
          });
        }
      }
      await swarm.docker(swarm.serviceRemoveArgs(service)).catch(() => undefined);
      created.splice(created.indexOf(service), 1);
    }
  } finally {
    undo.splice(undo.indexOf(teardown), 1);
    await teardown();
  }
}

// ---------------------------------------------------------------- report

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function medMax(xs: readonly number[] | undefined): string {
  if (!xs || xs.length === 0) return '—';
  return `${(median(xs) / 1000).toFixed(2)} / ${(Math.max(...xs) / 1000).toFixed(2)}`;
}

function ratio(a: readonly number[], b: readonly number[] | undefined): string {
  if (a.length === 0 || !b || b.length === 0) return '—';
  return `${(median(a) / median(b)).toFixed(2)}×`;
}

function printTable(): void {
  const header = [
    '',
    'n',
    'Gantry s (med / max)',
    'Swarm s (med / max)',
    'ratio',
    'Swarm delay 0 s',
    'ratio',
    'failed / total',
  ];
  const lines = [...rows.values()].map((r) => [
    r.label,
    String(Math.max(r.gantry.length, r.swarm?.length ?? 0, r.swarm0?.length ?? 0)),
    medMax(r.gantry),
    medMax(r.swarm),
    ratio(r.gantry, r.swarm),
    medMax(r.swarm0),
    ratio(r.gantry, r.swarm0),
    r.load ? `${r.load.failed} / ${r.load.total}` : '—',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (l: string[]) =>
    l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
}

async function main(): Promise<void> {
  const started = Date.now();
  const app = `sh${randomBytes(3).toString('hex')}`;
  const dir = path.resolve('.gantry', 'bench', `self-heal-${Date.now()}`);
  const image = `gantry-bench/${app}:1`;
  const { stdout: dockerVersion } = await run('docker', [
    'version',
    '--format',
    '{{.Server.Version}}',
  ]);
  const { stdout: caddyVersion } = await run('caddy', ['version']);
  console.log(
    `self-heal: ${REPLICAS} replicas of examples/hello; health GET /healthz every ${HEALTH.intervalS}s, timeout ${HEALTH.timeoutS}s, ` +
      `start period ${HEALTH.startPeriodS}s, ${HEALTH.retries} failures → unhealthy (Gantry: 2 passes → healthy); ` +
      `${REPS} repetitions per fault; ${RATE} req/s GET through the edge during Gantry's faults; ` +
      `docker ${dockerVersion.trim()}, caddy ${caddyVersion.trim().split(' ')[0]}, node ${process.version}`,
  );
  undo.push(async () => {
    await rm(path.join(dir, 'services'), { recursive: true, force: true });
  });
  undo.push(async () => {
    await run('docker', ['rmi', image]).catch(() => undefined);
  });
  // Ctrl-C or a kill mid-run: the same teardowns, then out. A terminal's Ctrl-C reaches this
  // process twice (from the terminal and relayed by tsx): the second must not cut the first short.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`${signal}: cleaning up`);
      void undoAll().finally(() => process.exit(130));
    });
  }
  // The table's order, whichever row gets its first sample first.
  for (const { fault, label } of FAULTS) {
    row(label);
    if (fault === 'unhealthy') row(`${label} → unrouted`);
  }
  for (const { label } of FAULTS) row(`${label} → new task answers (Swarm only)`);
  try {
    const g = await startGantryProcesses({ dir });
    undo.push(() => g.close([app]));
    await gantryPart(g, app);
    if (!values['no-swarm'] && !interrupted) {
      // The same Dockerfile and files Gantry built, as a local image for Swarm.
      await run('docker', ['build', '-q', '-t', image, EXAMPLE], { maxBuffer: 16 * 1024 * 1024 });
      await swarmPart(image, app);
    }
  } finally {
    await undoAll();
  }

  console.log('');
  printTable();
  console.log('');
  console.log(
    [
      'Times from the fault command to the state named. Gantry: 3 running instances of the release that the',
      'edge routes (the controller routes an instance only after 2 passing checks), polled every 100 ms',
      '(unrouted: polled every 50 ms). Swarm: 3 tasks Running (a task with a HEALTHCHECK is Running only once',
      'its first check passed), polled with `docker service ps` every 100 ms; "new task answers": GET / on the',
      "new task's container address (Swarm's routing mesh needs IPVS, which this kernel lacks). Swarm: its",
      'default restart policy (any, 5 s delay), and the same with `--restart-delay 0s`. Caddy rows: kill → a 200',
      'through the edge on a fresh connection (polled every 20 ms). Controller rows: signal → the next',
      'controller answers /healthz. failed / total: GETs through the edge at a fixed rate, summed over the',
      `repetitions, each window from ${MARGIN_MS / 1000} s before the fault to ${MARGIN_MS / 1000} s after the repair (controller rows: ` +
        `${(2 * MARGIN_MS) / 1000} s before, ${AFTER_RESTART_MS / 1000} s after the restart).`,
    ].join('\n'),
  );
  for (const n of notes) console.log(`- ${n}`);
  console.log('');
  console.log('commands:');
  for (const { fault, label } of FAULTS)
    console.log(`  ${label}: docker ${shellJoin(faultArgs(fault, '<container>'))}`);
  for (const c of commands) console.log(`  ${c}`);
  console.log(`whole bench: ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
