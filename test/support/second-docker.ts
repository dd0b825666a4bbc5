/**
 * A second Docker engine on this machine, for multi-host tests: its own socket, data root, exec
 * root (so its own containerd) and bridge, started from the machine's `dockerd` as root.
 *
 * Two choices keep it from disturbing the machine's main engine:
 *  - `--iptables=false`: at start, dockerd flushes and deletes the DOCKER chains of the nat and
 *    filter tables (libnetwork `removeIPChains`), which belong to the main engine too. Published
 *    loopback ports still work: host-originated traffic to 127.0.0.1 goes through docker-proxy,
 *    not DNAT. Containers of this engine only lose outbound NAT, which tests do not need.
 *  - its own bridge, created here with a /24 no route uses, because `--bridge` must name an
 *    existing interface and the default `docker0` belongs to the main engine.
 *  - no default address pool: see `secondDockerArgs`, and `up()` checks `docker0` survived.
 * The engine starts with no images: pulls from the test registry work without TLS because Docker
 * trusts registries on 127.0.0.0/8 as insecure by default.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage } from '../../src/errors.js';
import { spawnDaemon, waitReady, type Daemon } from '../../src/process/daemon.js';

const run = promisify(execFile);

export interface SecondDockerLayout {
  readonly dir: string;
  readonly socketPath: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidFile: string;
  readonly configFile: string;
  readonly logFile: string;
  /** The bridge interface (≤ 15 characters), created before dockerd starts. */
  readonly bridge: string;
  /** The bridge's address with prefix, e.g. `10.213.7.1/24`. */
  readonly bridgeAddress: string;
}

export interface SecondDocker {
  /** `unix:///…/docker.sock`, for a DockerRuntime host entry. */
  readonly endpoint: string;
  readonly layout: SecondDockerLayout;
  /** The running dockerd (a new one after each `up()`). */
  readonly daemon: Daemon;
  /**
   * Stops dockerd as a host shutdown would (SIGTERM: it stops its containers first) and keeps
   * the bridge and data root, so `up()` brings the same engine back with the same containers.
   */
  down(): Promise<void>;
  /** Starts dockerd again on the same data root and socket; resolves once it answers. */
  up(): Promise<void>;
  /** `down()` then `up()`: the engine restarting under the controller. */
  restart(): Promise<void>;
  /** Stops dockerd (which stops its containers), deletes the bridge and the directory. */
  stop(): Promise<void>;
}

/**
 * Why a second engine cannot run here, or undefined if it can: root, `dockerd` and `ip` are needed.
 */
export async function secondDockerUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux')
    return `a second dockerd needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0)
    return 'a second dockerd needs root (it creates a bridge, mounts and cgroups)';
  for (const bin of ['dockerd', 'containerd', 'docker-proxy', 'ip']) {
    if ((await findOnPath(bin)) === undefined) return `${bin} is not on PATH`;
  }
  return undefined;
}

/** dockerd's argv for a layout. Pure. */
export function secondDockerArgs(layout: SecondDockerLayout): string[] {
  return [
    `--host=unix://${layout.socketPath}`,
    `--data-root=${layout.dataRoot}`,
    `--exec-root=${layout.execRoot}`,
    `--pidfile=${layout.pidFile}`,
    // An empty config file of its own: the machine's /etc/docker/daemon.json is the main engine's.
    `--config-file=${layout.configFile}`,
    `--bridge=${layout.bridge}`,
    // No `--default-address-pool`: a dockerd started again on a data root that holds its bridge
    // network deletes the link named `docker0` when address pools are configured (moby
    // daemon_unix.go, "Clear stale bridge network" → removeDefaultBridgeInterface) — the main
    // engine's bridge, whatever `--bridge` says. `restart()` would take the main engine's
    // containers off the network. No test creates user-defined networks on this engine.
    '--iptables=false',
    '--ip6tables=false',
    '--live-restore=false',
  ];
}

/**
 * Two /24s in 10.213.0.0/16 that no route overlaps: one for the bridge, one for the pool. Pure:
 * `routes` are destinations from `ip -4 route` (`a.b.c.d/len` or `default`), `random` picks.
 */
export function pickSubnets(
  routes: readonly string[],
  random: () => number = Math.random,
): { bridge: string; pool: string } {
  const free = freeThirdOctets(routes, 10, 213);
  if (free.length < 2)
    throw new Error('no free /24 left in 10.213.0.0/16 for a second Docker bridge');
  const at = Math.floor(random() * (free.length - 1));
  const [a, b] = [free[at] as number, free[at + 1] as number];
  return { bridge: `10.213.${a}.1/24`, pool: `10.213.${b}.0/24` };
}

/** The `t` of every `a.b.t.0/24` (t in 1…254) that no route overlaps. Pure. */
export function freeThirdOctets(routes: readonly string[], a: number, b: number): number[] {
  const used = routes.map(parseCidr).filter((r): r is Cidr => r !== undefined);
  const free: number[] = [];
  for (let third = 1; third < 255; third++) {
    const candidate: Cidr = { base: ip(a, b, third, 0), bits: 24 };
    if (!used.some((r) => overlaps(r, candidate))) free.push(third);
  }
  return free;
}

/** Destinations of `ip -4 route` (`a.b.c.d/len` or `default`). */
export async function routeDestinations(): Promise<string[]> {
  return (await run('ip', ['-4', 'route', 'show'])).stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((d) => d.length > 0);
}

/** Starts a second dockerd in `opts.dir` (default: a fresh directory under the OS temp dir). */
export async function startSecondDocker(
  opts: { dir?: string; readyTimeoutMs?: number } = {},
): Promise<SecondDocker> {
  const reason = await secondDockerUnavailable();
  if (reason !== undefined) throw new Error(`cannot start a second Docker engine: ${reason}`);
  // Unix socket paths are capped at 108 bytes and dockerd nests sockets deep under exec-root:
  // a short directory by default.
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'gd2-')));
  await mkdir(dir, { recursive: true });
  const subnets = pickSubnets(await routeDestinations());
  const layout: SecondDockerLayout = {
    dir,
    socketPath: join(dir, 'docker.sock'),
    dataRoot: join(dir, 'data'),
    execRoot: join(dir, 'exec'),
    pidFile: join(dir, 'docker.pid'),
    configFile: join(dir, 'daemon.json'),
    logFile: join(dir, 'dockerd.log'),
    bridge: `gd2-${randomBytes(3).toString('hex')}`,
    bridgeAddress: subnets.bridge,
  };
  let daemon: Daemon | undefined;
  const cleanup = async (): Promise<void> => {
    await daemon?.stop(30_000);
    await run('ip', ['link', 'del', layout.bridge]).catch(() => undefined);
    await unmountUnder(dir);
    if (ownDir) await rm(dir, { recursive: true, force: true });
    else await rm(layout.dataRoot, { recursive: true, force: true });
  };
  const launch = async (): Promise<Daemon> => {
    const dockerd = (await findOnPath('dockerd')) ?? 'dockerd';
    const d = await spawnDaemon({
      name: 'dockerd (second)',
      command: dockerd,
      args: secondDockerArgs(layout),
      logFile: layout.logFile,
      cwd: dir,
    });
    daemon = d;
    await waitReady(
      d,
      `GET /_ping on ${layout.socketPath}`,
      () => ping(layout.socketPath),
      opts.readyTimeoutMs ?? 60_000,
    );
    return d;
  };
  try {
    await writeFile(layout.configFile, '{}\n');
    await run('ip', ['link', 'add', 'name', layout.bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', layout.bridgeAddress, 'dev', layout.bridge]);
    await run('ip', ['link', 'set', layout.bridge, 'up']);
    await launch();
  } catch (e) {
    const log = daemon ? await daemon.logTail(15) : '';
    await cleanup().catch(() => undefined);
    throw new Error(
      `cannot start a second Docker engine: ${errorMessage(e)}${log ? `\n${log}` : ''}`,
      { cause: e },
    );
  }
  let stopped = false;
  let running = true;
  const down = async (): Promise<void> => {
    if (!running) return;
    running = false;
    // dockerd's own shutdown timeout is 15 s (containers get their stop timeout, then SIGKILL).
    await daemon?.stop(30_000);
  };
  const up = async (): Promise<void> => {
    if (running) return;
    if (stopped) throw new Error('the second Docker engine was stopped for good');
    const hadDocker0 = await linkExists('docker0');
    await launch();
    running = true;
    // Loud, not silent: another engine's bridge gone breaks every test on the main engine.
    if (hadDocker0 && !(await linkExists('docker0'))) {
      throw new Error(
        'the second dockerd deleted docker0, the main engine bridge, on restart; see secondDockerArgs',
      );
    }
  };
  return {
    endpoint: `unix://${layout.socketPath}`,
    layout,
    get daemon(): Daemon {
      return daemon as Daemon;
    },
    down,
    up,
    restart: async () => {
      await down();
      await up();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await cleanup();
    },
  };
}

/** GET /_ping on an engine's Unix socket: true once it answers 200. */
export function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function linkExists(name: string): Promise<boolean> {
  return run('ip', ['link', 'show', name]).then(
    () => true,
    () => false,
  );
}

/** Mounts a killed dockerd leaves behind (overlay layers, netns files), deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of points) await run('umount', ['-l', point]).catch(() => undefined);
}

export async function findOnPath(bin: string): Promise<string | undefined> {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(d, bin);
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

interface Cidr {
  base: number;
  bits: number;
}

function ip(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function parseCidr(text: string): Cidr | undefined {
  if (text === 'default') return undefined;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return undefined;
  const [a, b, c, d] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  return { base: ip(a, b, c, d), bits: m[5] === undefined ? 32 : Number(m[5]) };
}

function overlaps(x: Cidr, y: Cidr): boolean {
  const bits = Math.min(x.bits, y.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}

/** A second engine, or why this machine cannot run one (the caller skips): never throws. */
export async function trySecondDocker(): Promise<{
  second?: SecondDocker | undefined;
  unavailable?: string | undefined;
}> {
  const unavailable = await secondDockerUnavailable();
  if (unavailable !== undefined) return { unavailable };
  try {
    return { second: await startSecondDocker() };
  } catch (e) {
    return { unavailable: errorMessage(e) };
  }
}
