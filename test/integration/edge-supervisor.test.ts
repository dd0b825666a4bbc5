/**
 * The supervised edge on real Caddy: routes survive a kill -9 of either Caddy and of the
 * supervisor, a new supervisor adopts the running Caddy processes, and stopEdge leaves nothing.
 */
import { readFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaddyEdge } from '../../src/edge/caddy/caddy-edge.js';
import type { Tier } from '../../src/edge/caddy/names.js';
import { ensureEdge, stopEdge, type EdgeEndpoints } from '../../src/edge/supervisor/ensure-edge.js';
import { readEdgeState, type EdgeState } from '../../src/edge/supervisor/edge-state.js';
import { freePort } from '../../src/process/daemon.js';
import { isRunning } from '../../src/process/pid.js';
import { testEnv, uniqueName } from '../support/env.js';

/** A generous deadline for "answers again"; the measured time is printed, not asserted. */
const RECOVERY_DEADLINE_MS = 5_000;

interface Upstream {
  readonly address: string;
  close(): Promise<void>;
}

async function upstream(body: string): Promise<Upstream> {
  const server: Server = createServer((_req, res) => res.end(body));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** The body of GET `url` on a fresh connection, or undefined when nothing answers 200. */
function body(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(res.statusCode === 200 ? text : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Milliseconds until `url` answers `want`; fails after the deadline. */
async function answersAgain(url: string, want: string): Promise<number> {
  const start = Date.now();
  for (;;) {
    if ((await body(url)) === want) return Date.now() - start;
    if (Date.now() - start > RECOVERY_DEADLINE_MS) {
      throw new Error(`${url} did not answer "${want}" within ${RECOVERY_DEADLINE_MS} ms`);
    }
    await sleep(20);
  }
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && (await isRunning(pid)); i++) await sleep(50);
  expect(await isRunning(pid)).toBe(false);
}

const dir = join(testEnv().runDir, uniqueName('edge-sup'));
const upstreams: Upstream[] = [];
let endpoints: EdgeEndpoints;
let edge: CaddyEdge;
let url: string;

async function pidOf(tier: Tier): Promise<number> {
  const pid = (await readEdgeState(dir))[tier]?.pid;
  expect(pid).toBeTypeOf('number');
  return pid!;
}

async function killTierAndMeasure(tier: Tier): Promise<number> {
  const before = await pidOf(tier);
  process.kill(before, 'SIGKILL');
  const ms = await answersAgain(url, 'A');
  expect(await pidOf(tier)).not.toBe(before);
  console.log(`${tier} Caddy killed with SIGKILL: the route answered again after ${ms} ms`);
  return ms;
}

beforeAll(async () => {
  endpoints = await ensureEdge({ dir });
  edge = new CaddyEdge({ ...endpoints, name: uniqueName('s') });
  const a = await upstream('A');
  upstreams.push(a);
  ({ url } = await edge.ensureRoute({
    id: 'survivor',
    listen: { host: '127.0.0.1', port: await freePort() },
  }));
  await edge.setUpstreams('survivor', [a.address]);
  expect(await body(url)).toBe('A');
});

afterAll(async () => {
  await edge?.close();
  await stopEdge(dir);
  await Promise.all(upstreams.map((u) => u.close()));
});

describe('the supervised edge', () => {
  it('serves the route again after the front Caddy is killed with SIGKILL', async () => {
    await killTierAndMeasure('front');
  });

  it('serves the route again after the back Caddy is killed with SIGKILL', async () => {
    await killTierAndMeasure('back');
  });

  it('keeps serving when the supervisor is killed, and a new one adopts the Caddy processes', async () => {
    const before: EdgeState = await readEdgeState(dir);
    const supervisor = before.supervisorPid!;
    process.kill(supervisor, 'SIGKILL');
    await waitGone(supervisor);
    expect(await body(url)).toBe('A');

    const again = await ensureEdge({ dir });
    expect(again).toEqual(endpoints);
    const after = await readEdgeState(dir);
    expect(after.supervisorPid).not.toBe(supervisor);
    expect(after.front?.pid).toBe(before.front?.pid);
    expect(after.back?.pid).toBe(before.back?.pid);

    // The adopted edge still takes changes…
    const b = await upstream('B');
    upstreams.push(b);
    await edge.setUpstreams('survivor', [b.address]);
    expect(await answersAgain(url, 'B')).toBeLessThan(RECOVERY_DEADLINE_MS);
    await edge.setUpstreams('survivor', [upstreams[0]!.address]);
    await answersAgain(url, 'A');
    // …and an adopted Caddy (not the new supervisor's child) is still restarted when it dies.
    await killTierAndMeasure('front');
  });

  it('starts one supervisor when two controllers ask for a new edge at the same moment', async () => {
    const fresh = join(testEnv().runDir, uniqueName('edge-race'));
    try {
      const [one, two] = await Promise.all([
        ensureEdge({ dir: fresh }),
        ensureEdge({ dir: fresh }),
      ]);
      expect(two).toEqual(one);
      const log = await readFile(join(fresh, 'edge.log'), 'utf8');
      expect(log.match(/supervised by pid/g)).toHaveLength(1);
    } finally {
      await stopEdge(fresh);
    }
  });

  it('stops everything with stopEdge', async () => {
    const state = await readEdgeState(dir);
    const pids = [state.supervisorPid, state.front?.pid, state.back?.pid];
    await stopEdge(dir);
    for (const pid of pids) expect(await isRunning(pid)).toBe(false);
    expect(await body(url)).toBeUndefined();
  });
});
