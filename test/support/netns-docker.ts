/**
 * A Docker host that is really apart, for multi-host tests: its own network namespace joined to
 * this machine by a veth pair on a private /24 (10.250.t.0/24: .1 here, .2 there), its own
 * dockerd with its own data root, exec root, bridge and iptables (the namespace's, so its NAT for
 * published ports touches nothing of the main engine's), reached only over TCP with TLS on
 * `tcp://10.250.t.2:2376` with client certificates made here. Its instances publish on
 * 10.250.t.2, which the controller, the edge and the probes dial through the veth.
 *
 * The registry: images are named `127.0.0.1:PORT/…` because the main engine pushes there (Docker
 * trusts only loopback registries without TLS, and the main engine's config is not the test's to
 * change). Inside the namespace, 127.0.0.1 is the namespace's own loopback: a forwarder there
 * carries PORT to a listener on 10.250.t.1 here, which forwards to the registry. So the remote
 * engine reaches "the registry address" as every host must, and pulls by digest as a real one.
 *
 * Only addresses made here are ever dialled: 10.250.t.1 and 10.250.t.2.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage } from '../../src/errors.js';
import { spawnDaemon, waitReady, type Daemon } from '../../src/process/daemon.js';
import { makeEngineCerts, type EngineCerts } from './engine-certs.js';
import {
  findOnPath,
  freeThirdOctets,
  ping,
  routeDestinations,
  unmountUnder,
} from './second-docker.js';

const run = promisify(execFile);

export interface NetnsDocker {
  /** The host's name in `runtime.hosts`. */
  readonly name: string;
  /** `tcp://10.250.t.2:2376`. */
  readonly endpoint: string;
  /** 10.250.t.2: where its instances publish. */
  readonly address: string;
  /** 10.250.t.1: this machine's end of the veth. */
  readonly peerAddress: string;
  /** The client's PEM file paths, for `runtime.hosts[].tls`. */
  readonly tls: EngineCerts['client'];
  /** The YAML flow mapping of its `runtime.hosts` entry. */
  readonly hostEntry: string;
  /** Its Unix socket, for the test's own looks (the controller uses TCP with TLS). */
  readonly socketPath: string;
  /** Ids of every container on this engine (the test's only: the engine is the test's). */
  containerIds(): Promise<string[]>;
  /** Removes every container on this engine, as a reinstalled host would have none. */
  removeContainers(): Promise<void>;
  /** Stops dockerd as a host shutdown would (SIGTERM: it stops its containers first). */
  down(): Promise<void>;
  /** Starts dockerd again on the same data root; resolves once it answers. */
  up(): Promise<void>;
  /** Stops everything and removes the namespace, the veth, the data and the certificates. */
  stop(): Promise<void>;
}

/** Why a namespaced engine cannot run here, or undefined if it can. */
export async function netnsDockerUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux')
    return `a network namespace needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'a network namespace and a dockerd need root';
  for (const bin of [
    'ip',
    'nsenter',
    'dockerd',
    'containerd',
    'docker-proxy',
    'iptables',
    'openssl',
  ]) {
    if ((await findOnPath(bin)) === undefined) return `${bin} is not on PATH`;
  }
  return undefined;
}

/** dockerd's argv inside the namespace. Pure. */
export function netnsDockerdArgs(o: {
  dir: string;
  address: string;
  certs: EngineCerts['server'];
}): string[] {
  return [
    `--host=unix://${join(o.dir, 'docker.sock')}`,
    `--host=tcp://${o.address}:2376`,
    '--tlsverify',
    `--tlscacert=${o.certs.ca}`,
    `--tlscert=${o.certs.cert}`,
    `--tlskey=${o.certs.key}`,
    `--data-root=${join(o.dir, 'data')}`,
    `--exec-root=${join(o.dir, 'exec')}`,
    `--pidfile=${join(o.dir, 'docker.pid')}`,
    // Its own (empty) config: the machine's /etc/docker/daemon.json is the main engine's.
    `--config-file=${join(o.dir, 'daemon.json')}`,
    '--live-restore=false',
  ];
}

/** A TCP forwarder as a script run inside the namespace: listen host, port → to host, port. */
const FORWARDER = `const net = require('node:net');
const [lh, lp, th, tp] = process.argv.slice(2);
net.createServer((c) => {
  const u = net.connect(Number(tp), th);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
}).listen(Number(lp), lh, () => console.log('forwarding', lh, lp, '->', th, tp));
`;

/** Starts the namespaced host; `registry` is the run's `127.0.0.1:PORT`. */
export async function startNetnsDocker(opts: {
  name: string;
  registry: string;
}): Promise<NetnsDocker> {
  const reason = await netnsDockerUnavailable();
  if (reason !== undefined) throw new Error(`cannot start a namespaced Docker host: ${reason}`);
  const registryPort = Number(opts.registry.split(':')[1]);
  const free = freeThirdOctets(await routeDestinations(), 10, 250);
  const third = free[Math.floor(Math.random() * free.length)];
  if (third === undefined) throw new Error('no free /24 left in 10.250.0.0/16 for a veth pair');
  const address = `10.250.${third}.2`;
  const peerAddress = `10.250.${third}.1`;
  const tag = randomBytes(3).toString('hex');
  const ns = `gnd-${tag}`;
  const [hereLink, thereLink] = [`gnd${tag}a`, `gnd${tag}b`];
  // Short: dockerd nests sockets under exec-root, and Unix socket paths stop at 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'gnd-'));
  // nsenter joins the network namespace only: `ip netns exec` also remounts /sys, which drops the
  // cgroup mounts under it and leaves dockerd without cgroups.
  const inNs = (args: string[]): string[] => [`--net=/run/netns/${ns}`, ...args];

  let dockerd: Daemon | undefined;
  let forwarder: Daemon | undefined;
  let relay: Server | undefined;
  let running = false;
  let stopped = false;
  const socketPath = join(dir, 'docker.sock');

  const cleanup = async (): Promise<void> => {
    await dockerd?.stop(30_000).catch(() => undefined);
    await forwarder?.stop().catch(() => undefined);
    await new Promise((r) => (relay ? relay.close(r) : r(undefined)));
    // Whatever still runs in the namespace was started by this host's dockerd (shims, proxies).
    const pids = await run('ip', ['netns', 'pids', ns]).then(
      (r) => r.stdout.split('\n').filter((p) => /^\d+$/.test(p)),
      () => [] as string[],
    );
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    // Deleting the namespace deletes its end of the pair, and with it this one; in case not:
    await run('ip', ['link', 'del', hereLink]).catch(() => undefined);
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  };

  const launch = async (): Promise<void> => {
    const d = await spawnDaemon({
      name: `dockerd (${opts.name}, netns ${ns})`,
      command: 'nsenter',
      args: inNs([
        (await findOnPath('dockerd')) ?? 'dockerd',
        ...netnsDockerdArgs({ dir, address, certs: certs.server }),
      ]),
      logFile: join(dir, 'dockerd.log'),
      cwd: dir,
    });
    dockerd = d;
    await waitReady(d, `GET /_ping on ${socketPath}`, () => ping(socketPath), 60_000);
    running = true;
  };

  let certs: EngineCerts;
  try {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', hereLink, 'type', 'veth', 'peer', 'name', thereLink]);
    await run('ip', ['link', 'set', thereLink, 'netns', ns]);
    await run('ip', ['addr', 'add', `${peerAddress}/24`, 'dev', hereLink]);
    await run('ip', ['link', 'set', hereLink, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', thereLink]);
    await run('ip', ['-n', ns, 'link', 'set', thereLink, 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    certs = await makeEngineCerts(dir, address);
    await writeFile(join(dir, 'daemon.json'), '{}\n');
    relay = await listenRelay(peerAddress, registryPort);
    const relayPort = (relay.address() as { port: number }).port;
    await writeFile(join(dir, 'forward.cjs'), FORWARDER);
    forwarder = await spawnDaemon({
      name: `registry forwarder (netns ${ns})`,
      command: 'nsenter',
      args: inNs([
        process.execPath,
        join(dir, 'forward.cjs'),
        '127.0.0.1',
        String(registryPort),
        peerAddress,
        String(relayPort),
      ]),
      logFile: join(dir, 'forwarder.log'),
    });
    await waitReady(forwarder, 'the forwarder to listen', async () =>
      (await forwarder!.logTail(1)).includes('forwarding'),
    );
    await launch();
  } catch (e) {
    const log = dockerd ? await dockerd.logTail(15) : '';
    await cleanup().catch(() => undefined);
    throw new Error(
      `cannot start a namespaced Docker host: ${errorMessage(e)}${log ? `\n${log}` : ''}`,
      { cause: e },
    );
  }

  const tls = certs.client;
  const endpoint = `tcp://${address}:2376`;
  const containerIds = async (): Promise<string[]> => {
    const { stdout } = await run('docker', [
      '-H',
      `unix://${socketPath}`,
      'ps',
      '-aq',
      '--no-trunc',
    ]);
    return stdout.split('\n').filter((id) => id.length > 0);
  };
  return {
    name: opts.name,
    endpoint,
    address,
    peerAddress,
    tls,
    hostEntry: `{ name: ${opts.name}, endpoint: "${endpoint}", tls: { ca: "${tls.ca}", cert: "${tls.cert}", key: "${tls.key}" } }`,
    socketPath,
    containerIds,
    removeContainers: async () => {
      const ids = await containerIds();
      if (ids.length > 0) await run('docker', ['-H', `unix://${socketPath}`, 'rm', '-f', ...ids]);
    },
    down: async () => {
      if (!running) return;
      running = false;
      // dockerd's own shutdown timeout is 15 s (containers get their stop timeout, then SIGKILL).
      await dockerd?.stop(30_000);
    },
    up: async () => {
      if (running) return;
      if (stopped) throw new Error(`the namespaced Docker host ${opts.name} was stopped for good`);
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      running = false;
      await cleanup();
    },
  };
}

/** Listens on `host` (a port the kernel picks) and forwards each connection to 127.0.0.1:`port`. */
function listenRelay(host: string, port: number): Promise<Server> {
  const server = createServer((c) => {
    const u = connect(port, '127.0.0.1');
    c.pipe(u);
    u.pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}
