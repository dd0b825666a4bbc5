/**
 * bench/edge-latency: what the edge adds to one request, and where that time goes, in one run.
 *
 *   npx tsx bench/edge-latency.ts [--rate 500] [--seconds 5] [--runs 3] [--connections 32] [--spread 10]
 *
 * Starts the edge as the controller does (`ensureEdge`: the supervisor, the front and back Caddy,
 * routes written by CaddyEdge) and one instance of bench/app as the Docker runtime does (a
 * container whose port is published on 127.0.0.1). Then the app's own capacity (one instance,
 * unthrottled), and GETs at one fixed rate (autocannon in a separate process, bench/lib/load.ts)
 * to each of:
 *   direct          the instance's published port
 *   edge            the route on the front, as clients meet it (front → Unix socket → back → app)
 * and, to split the edge's cost by hop, servers of a throwaway third Caddy ("probe"):
 *   1 bare hop      reverse_proxy to the instance, Caddy's defaults
 *   1 hop, back cfg the back tier's server for this route (back-config.ts) on a TCP listener:
 *                   what one tier holding the upstream lists would cost
 *   2 bare hops     bare hop → bare hop, both over TCP with keep-alive
 *   front, as is    the front's handler (front-config.ts) → the real back: the probe stands in
 *                   for the front Caddy, so this row checks the probe against `edge`
 *   front, keep-alive  the same with keep-alive to the back's socket
 * Each run takes every target once, in that order; figures are the median over runs, and "adds"
 * is the median of each run's difference with `direct` of the same run. Loopback only; removes
 * what it started (container, image, edge, probe).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { backServerConfig } from '../src/edge/caddy/back-config.js';
import { adminClient } from '../src/edge/caddy/admin-client.js';
import { CaddyEdge } from '../src/edge/caddy/caddy-edge.js';
import { toBack } from '../src/edge/caddy/front-config.js';
import type { JsonObject } from '../src/edge/caddy/json.js';
import { accessLogConfig } from '../src/edge/caddy/log-config.js';
import { EDGE_LOG_NAME } from '../src/edge/caddy/names.js';
import { startCaddy, type CaddyServer } from '../src/edge/supervisor/caddy-process.js';
import { ensureEdge, stopEdge } from '../src/edge/supervisor/ensure-edge.js';
import { freePort } from '../src/process/daemon.js';
import { answered, edgeCostLines, failed } from './lib/edge-cost.js';
import { runLoad, type LoadResult } from './lib/run-load.js';
import { median } from './lib/phases.js';
import { prepareStaticApp } from './lib/static-app.js';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    spread: { type: 'string', default: '10' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Math.min(30, Math.max(1, Number(values.seconds)));
const RUNS = Math.min(20, Math.max(1, Number(values.runs)));
const CONNECTIONS = Number(values.connections);
const SPREAD = Number(values.spread);
const ROUTE = 'bench';

interface Target {
  readonly name: string;
  readonly url: string;
}

interface Figures {
  p50: number;
  p99: number;
  failed: number;
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** bench/app as an image, one container of it published on 127.0.0.1 as the runtime does. */
async function startInstance(dir: string, tag: string, label: string): Promise<string> {
  const { go } = await prepareStaticApp(dir);
  console.log(`app: bench/app built with ${go}`);
  await run('docker', ['build', '-q', '-t', tag, dir]);
  // Published on 127.0.0.1 with a port the engine picks, as the Docker runtime does.
  const { stdout } = await run('docker', [
    'run',
    '-d',
    '--label',
    label,
    '-p',
    '127.0.0.1::8080',
    tag,
  ]);
  const id = stdout.trim();
  const { stdout: port } = await run('docker', ['port', id, '8080/tcp']);
  const address = port.trim().split('\n')[0] ?? '';
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${address}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return address;
    await sleep(100);
  }
  throw new Error(`the app at ${address} did not answer`);
}

/** The probe Caddy's servers (see the header), each on its own port; returns the targets. */
async function probeTargets(
  probe: CaddyServer,
  edgeName: string,
  instance: string,
  logDir: string,
): Promise<Target[]> {
  const client = adminClient(probe.adminUrl);
  const ports = {
    bare: await freePort(),
    back: await freePort(),
    twoBare: await freePort(),
    front: await freePort(),
    frontKeepAlive: await freePort(),
  };
  const tcp = (port: number) => `127.0.0.1:${port}`;
  const proxy = (dial: string): JsonObject => ({ handler: 'reverse_proxy', upstreams: [{ dial }] });
  const server = (port: number, handle: JsonObject, extra: JsonObject = {}): JsonObject => ({
    listen: [tcp(port)],
    automatic_https: { disable: true },
    routes: [{ handle: [handle] }],
    ...extra,
  });
  // The back's server as CaddyEdge writes it, with its access log, on a TCP port instead.
  const back = backServerConfig(edgeName, ROUTE, { live: [instance], draining: [] });
  const front = toBack(edgeName, ROUTE);
  const frontKeepAlive = { ...front, transport: { protocol: 'http' } };
  await client.call(
    'POST',
    `/config/logging/logs/${EDGE_LOG_NAME}`,
    accessLogConfig(path.join(logDir, 'probe-access.log'), 'back'),
  );
  const servers: Record<string, JsonObject> = {
    bare: server(ports.bare, proxy(instance)),
    back: { ...back, '@id': 'probe-back', listen: [tcp(ports.back)] },
    twoBare: server(ports.twoBare, proxy(tcp(ports.bare))),
    front: server(ports.front, front),
    frontKeepAlive: server(ports.frontKeepAlive, frontKeepAlive),
  };
  await client.call('POST', '/config/apps/http/servers', servers);
  const url = (port: number) => `http://${tcp(port)}`;
  return [
    { name: '1 bare hop', url: url(ports.bare) },
    { name: '1 hop, back config', url: url(ports.back) },
    { name: '2 bare hops', url: url(ports.twoBare) },
    { name: 'front as is → back', url: url(ports.front) },
    { name: 'front keep-alive → back', url: url(ports.frontKeepAlive) },
  ];
}

function at(url: string, rate: number, seconds: number): Promise<LoadResult> {
  return runLoad({
    url: `${url}/`,
    method: 'GET',
    rate,
    seconds,
    connections: CONNECTIONS,
    spread: rate > 0 ? SPREAD : 1,
  });
}

async function measure(targets: readonly Target[]): Promise<void> {
  for (const t of targets) await at(t.url, RATE, 1); // warm: connections, JIT, Caddy's pools
  const direct = targets[0];
  if (direct === undefined) throw new Error('no direct target');
  console.log(`load average before capacity: ${load()}`);
  const max = await at(direct.url, 0, SECONDS);
  const capacity = answered(max) / max.seconds;

  const byTarget = new Map<string, Figures[]>(targets.map((t) => [t.name, []]));
  for (let r = 1; r <= RUNS; r++) {
    const before = load();
    for (const t of targets) {
      const res = await at(t.url, RATE, SECONDS);
      byTarget.get(t.name)?.push({ p50: res.p50, p99: res.p99, failed: failed(res) });
    }
    console.log(`run ${r}/${RUNS}: load average ${before} → ${load()}`);
  }
  const ms = (n: number) => n.toFixed(2).padStart(6);
  const of = (name: string) => byTarget.get(name) ?? [];
  const direct50 = of(direct.name).map((f) => f.p50);
  const direct99 = of(direct.name).map((f) => f.p99);
  const summary = (name: string): Figures => ({
    p50: median(of(name).map((f) => f.p50)),
    p99: median(of(name).map((f) => f.p99)),
    failed: of(name).reduce((n, f) => n + f.failed, 0),
  });
  const lines = edgeCostLines(
    {
      capacity,
      direct: { rate: RATE, ...summary(direct.name) },
      edge: { rate: RATE, ...summary('edge') },
    },
    SECONDS,
  );
  console.log('');
  console.log(`median of ${RUNS} runs, ${SECONDS} s each, GET / at ${RATE}/s:`);
  for (const line of lines) console.log(line);
  console.log('');
  console.log(
    `${'target'.padEnd(26)}   p50 ms   p99 ms   adds p50   adds p99   failed  (medians; adds: of each run's difference with direct)`,
  );
  for (const t of targets) {
    const f = summary(t.name);
    const add50 = median(of(t.name).map((x, i) => x.p50 - (direct50[i] ?? Number.NaN)));
    const add99 = median(of(t.name).map((x, i) => x.p99 - (direct99[i] ?? Number.NaN)));
    console.log(
      `${t.name.padEnd(26)}  ${ms(f.p50)}   ${ms(f.p99)}    ${ms(add50)}     ${ms(add99)}   ${String(f.failed).padStart(6)}`,
    );
  }
  console.log(`load average at the end: ${load()}`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-edge-latency-'));
  const suffix = randomBytes(3).toString('hex');
  const tag = `gantry-bench/edge-latency:${suffix}`;
  const label = `gantry-bench=edge-latency-${suffix}`;
  const edgeDir = path.join(dir, 'edge');
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    console.log(
      `edge-latency: GET / at ${RATE}/s, ${CONNECTIONS} connections, rate split over ${SPREAD} ` +
        `autocannon instances; ${RUNS} runs of ${SECONDS} s per target; caddy ${(await run('caddy', ['version'])).stdout.trim()}`,
    );
    // Undone in reverse order: the container (found by this run's label) before its image.
    cleanups.push(
      () => run('docker', ['rmi', '-f', tag]),
      async () => {
        const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=${label}`]);
        const ids = stdout.split('\n').filter((l) => l !== '');
        if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
      },
    );
    const address = await startInstance(path.join(dir, 'app'), tag, label);

    cleanups.push(() => stopEdge(edgeDir));
    const endpoints = await ensureEdge({ dir: edgeDir });
    // A name of its own: the tiers' sockets are machine-wide (abstract namespace).
    const edgeName = `lat${suffix}`;
    const edge = new CaddyEdge({ ...endpoints, name: edgeName });
    cleanups.push(() => edge.close());
    const { url } = await edge.ensureRoute({
      id: ROUTE,
      listen: { host: '127.0.0.1', port: await freePort() },
    });
    await edge.setUpstreams(ROUTE, [address]);

    const probe = await startCaddy({ dir: path.join(dir, 'probe'), name: 'caddy-probe' });
    cleanups.push(() => probe.stop());
    const probes = await probeTargets(probe, edgeName, address, dir);
    await measure([{ name: 'direct', url: `http://${address}` }, { name: 'edge', url }, ...probes]);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
