/**
 * The supervised edge on real Caddy: routes survive a kill -9 of either Caddy and of the
 * supervisor, a new supervisor adopts the running Caddy processes, and stopEdge leaves nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaddyEdge } from '../../src/edge/caddy/caddy-edge.js';
import type { Tier } from '../../src/edge/caddy/names.js';
import { ensureEdge, stopEdge, type EdgeEndpoints } from '../../src/edge/supervisor/ensure-edge.js';
import { caddyAnswers, caddyInitialConfig } from '../../src/edge/supervisor/caddy-process.js';
import { edgePaths, readEdgeState, type EdgeState } from '../../src/edge/supervisor/edge-state.js';
import { freePort } from '../../src/process/daemon.js';
import { isRunning } from '../../src/process/pid.js';
import { testEnv, uniqueName } from '../support/env.js';
import { listenUpstream, type LocalUpstream } from '../support/http-upstream.js';

/** A generous deadline for "answers again"; the measured time is printed, not asserted. */
const RECOVERY_DEADLINE_MS = 5_000;

function upstream(body: string): Promise<LocalUpstream> {
  return listenUpstream((_req, res) => res.end(body));
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

// The supervisor (and so its Caddy processes) starts from this environment: a canary shows
// whether the controller's GANTRY_* variables reach Caddy.
const CANARY = `canary-${uniqueName('secret')}`;
process.env.GANTRY_TEST_CANARY_SECRET = CANARY;

const dir = join(testEnv().runDir, uniqueName('edge-sup'));
const upstreams: LocalUpstream[] = [];
let endpoints: EdgeEndpoints;
let edge: CaddyEdge;
let url: string;
/** The TCP ports of the routes the tests made: the only ones a Caddy may listen on. */
const routePorts: number[] = [];

async function pidOf(tier: Tier): Promise<number> {
  const pid = (await readEdgeState(dir))[tier]?.pid;
  expect(pid).toBeTypeOf('number');
  return pid!;
}

/** The TCP ports process `pid` listens on, from its socket inodes and /proc/net/tcp{,6}. */
async function tcpListenPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8');
    for (const row of text.trim().split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; column 9 is the inode.
      if (cols[3] === '0A' && inodes.has(cols[9]!)) {
        ports.push(parseInt(cols[1]!.split(':')[1]!, 16));
      }
    }
  }
  return ports;
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
  routePorts.push(Number(new URL(url).port));
  expect(await body(url)).toBe('A');
});

afterAll(async () => {
  await edge?.close();
  await stopEdge(dir);
  await Promise.all(upstreams.map((u) => u.close()));
});

describe('the supervised edge', () => {
  it('starts Caddy without the controller environment', async () => {
    for (const tier of ['front', 'back'] as const) {
      const environ = (await readFile(`/proc/${await pidOf(tier)}/environ`, 'utf8')).split('\0');
      expect(environ.filter((v) => v.startsWith('GANTRY_'))).toEqual([]);
      expect(environ.join('\n')).not.toContain(CANARY);
      expect(environ.some((v) => v.startsWith('PATH='))).toBe(true);
    }
  });

  it("keeps apps' Set-Cookie values and request credentials out of the access logs", async () => {
    const cookie = `session=${uniqueName('cookie-value')}`;
    const app = await listenUpstream((_req, res) => {
      res.setHeader('Set-Cookie', `${cookie}; HttpOnly`);
      res.end('C');
    });
    upstreams.push(app);
    const route = await edge.ensureRoute({
      id: 'cookies',
      listen: { host: '127.0.0.1', port: await freePort() },
    });
    await edge.setUpstreams('cookies', [app.address]);
    routePorts.push(Number(new URL(route.url).port));
    const auth = `Bearer ${uniqueName('auth-value')}`;
    const answered = await new Promise<string | undefined>((resolve) => {
      const req = request(
        route.url,
        { agent: false, headers: { Authorization: auth, Cookie: 'client=client-cookie-value' } },
        (res) => {
          resolve(res.headers['set-cookie']?.[0]);
          res.resume();
        },
      );
      req.on('error', () => resolve(undefined));
      req.end();
    });
    // The app's cookie does reach the client: only the logs must not hold it.
    expect(answered).toContain(cookie);
    let logs = '';
    for (let i = 0; i < 100; i++) {
      logs = (
        await Promise.all(
          (['front', 'back'] as const).map((t) =>
            readFile(join(endpoints.logDir, `${t}-access.log`), 'utf8').catch(() => ''),
          ),
        )
      ).join('\n');
      const lines = logs.split('\n').filter((l) => l.includes('"status":'));
      if (lines.filter((l) => l.includes('cookies')).length >= 2) break;
      await sleep(50);
    }
    // The back names the upstream that answered (per-upstream stats); no header reaches disk.
    expect(logs).toContain(`"upstream":"${app.address}"`);
    expect(logs).not.toContain('resp_headers');
    for (const secret of [cookie, auth, 'client-cookie-value', 'Set-Cookie', 'Authorization']) {
      expect(logs).not.toContain(secret);
    }
  });

  it('keeps the admin APIs off TCP, on sockets another local user cannot reach', async () => {
    for (const tier of ['front', 'back'] as const) {
      const socket = join(dir, tier, 'admin.sock');
      expect(endpoints[tier === 'front' ? 'frontAdminUrl' : 'backAdminUrl']).toBe(`unix:${socket}`);
      expect((await stat(join(dir, tier))).mode & 0o777).toBe(0o700);
      // Caddy listens on TCP for the front's routes only: no admin port.
      const ports = await tcpListenPorts(await pidOf(tier));
      for (const port of ports) expect(routePorts).toContain(port);
      if (tier === 'back') expect(ports).toEqual([]);

      const curl = (asNobody: boolean) =>
        spawnSync(
          asNobody ? 'setpriv' : 'curl',
          [
            ...(asNobody ? ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'curl'] : []),
            ...['-sS', '--max-time', '5', '--unix-socket', socket, '-H', 'Host;'],
            'http://admin/config/admin/listen',
          ],
          { encoding: 'utf8' },
        );
      // The same request as this test's user reaches it…
      expect(curl(false).stdout).toContain(`unix/${socket}`);
      // …and as another user it cannot connect (curl exit 7), so it reads nothing.
      const other = curl(true);
      expect(other.status).toBe(7);
      expect(other.stdout).toBe('');
    }
  });

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

  it('adopts an edge an older Gantry started on TCP admin ports, and moves it to the socket on restart', async () => {
    const old = join(testEnv().runDir, uniqueName('edge-tcp'));
    const paths = edgePaths(old);
    const state: Record<string, { adminPort: number; pid: number }> = {};
    try {
      // What an older supervisor left: `caddy run --resume` on 127.0.0.1:PORT, named in edge.json.
      for (const tier of ['front', 'back'] as const) {
        const p = paths[tier];
        await mkdir(p.root, { recursive: true });
        const port = await freePort();
        const config = { ...caddyInitialConfig(p.root, { persist: true }) };
        config.admin = { listen: `127.0.0.1:${port}`, config: { persist: true } };
        await writeFile(p.configFile, JSON.stringify(config));
        const child = spawn('caddy', ['run', '--resume', '--config', p.configFile], {
          cwd: p.root,
          detached: true,
          stdio: 'ignore',
          env: {
            PATH: process.env.PATH ?? '',
            XDG_CONFIG_HOME: p.configHome,
            XDG_DATA_HOME: p.dataHome,
          },
        });
        child.unref();
        state[tier] = { adminPort: port, pid: child.pid! };
        for (
          let i = 0;
          i < 100 && !(await caddyAnswers(`http://127.0.0.1:${port}`, p.storage));
          i++
        ) {
          await sleep(50);
        }
      }
      await writeFile(paths.state, JSON.stringify(state));

      const adopted = await ensureEdge({ dir: old });
      expect(adopted.frontAdminUrl).toBe(`http://127.0.0.1:${state.front!.adminPort}`);
      expect((await readEdgeState(old)).front?.pid).toBe(state.front!.pid);

      // Its next start (a crash here) comes up on the socket, with no TCP admin listener left.
      process.kill(state.front!.pid, 'SIGKILL');
      let now = await readEdgeState(old);
      for (let i = 0; i < 200 && !now.front?.adminUrl.startsWith('unix:'); i++) {
        await sleep(50);
        now = await readEdgeState(old);
      }
      expect(now.front?.adminUrl).toBe(`unix:${paths.front.adminSocket}`);
      // edge.json names the new process as it starts; it answers a moment later.
      let answers = false;
      for (let i = 0; i < 200 && !answers; i++) {
        answers = await caddyAnswers(now.front!.adminUrl, paths.front.storage);
        if (!answers) await sleep(50);
      }
      expect(answers).toBe(true);
      expect(await tcpListenPorts(now.front!.pid!)).toEqual([]);
    } finally {
      await stopEdge(old);
    }
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
