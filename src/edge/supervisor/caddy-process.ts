/**
 * Caddy processes for the edge, driven only through their admin API. `startCaddy`/`startCaddyPair`
 * run a throwaway pair as children of this process (tests that need a Caddy and nothing more):
 * nothing persisted, killed when this process exits. The supervised edge that outlives the
 * controller (`supervisor.ts`) shares the initial config, the readiness check and the leftover
 * cleanup defined here. Nothing here binds :80 or :443.
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import { GantryError, errorMessage } from '../../errors.js';
import { minimalEnv } from '../../process/child-env.js';
import { spawnDaemon, waitReady } from '../../process/daemon.js';
import { argvOf, terminate, type ArgvMatch } from '../../process/pid.js';
import { adminListenOf, adminSocketUrl, adminTarget } from '../caddy/admin-endpoint.js';
import { ACCESS_LOG_NAMESPACE } from '../caddy/names.js';

export interface CaddyServer {
  /** `unix:DIR/admin.sock`, the admin API. */
  readonly adminUrl: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** The two Caddy processes the Caddy edge drives (see src/edge/caddy/caddy-edge.ts for why two). */
export interface CaddyPair {
  readonly front: CaddyServer;
  readonly back: CaddyServer;
  /** Where the edge should point both tiers' access logs (`CaddyEdgeOptions.logDir`). */
  readonly logDir: string;
  stop(): Promise<void>;
}

/** The admin API's Unix socket of the Caddy whose directory is `dir`. */
export function adminSocketOf(dir: string): string {
  return join(dir, 'admin.sock');
}

/**
 * Makes `dir` (a tier's directory: admin socket, storage with TLS keys) reachable by its owner
 * only. Caddy 2.6 cannot set a socket's mode, so the directory is what keeps other local users
 * off the admin API; an older Gantry made it 0755, hence the chmod.
 */
export async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * Caddy's initial config: admin on a Unix socket in `dir` only (`adminSocketOf`), storage under
 * `dir`, an empty HTTP app for the edge to fill. The edge's access logs are kept out of the
 * process log. `persist` makes Caddy autosave every config it loads, for `caddy run --resume`
 * (default false).
 */
export function caddyInitialConfig(
  dir: string,
  opts: { persist?: boolean } = {},
): Record<string, unknown> {
  return {
    admin: {
      listen: adminListenOf(adminSocketOf(dir)),
      config: { persist: opts.persist ?? false },
    },
    storage: { module: 'file_system', root: join(dir, 'storage') },
    logging: {
      logs: {
        default: { writer: { output: 'stderr' }, level: 'INFO', exclude: [ACCESS_LOG_NAMESPACE] },
      },
    },
    // Servers the edge adds disable automatic HTTPS each, but for the front's HTTPS listener of
    // routes with domains (https-config.ts); with none here nothing else listens.
    // No grace_period: in 2.6.2 a config load does not wait for the servers it replaces (their
    // shutdown context is cancelled at once, logged as "server shutdown … context canceled"),
    // and requests already running on them run to completion however long they take — a 300 ms
    // grace_period cut nothing off a 1.5 s request. The edge's drain has its own timeout.
    apps: { http: { servers: {} } },
  };
}

/** Matches the argv of `caddy run … --config <configFile>` (a supervised one if `resume`). */
export function caddyRunning(configFile: string, opts: { resume?: boolean } = {}): ArgvMatch {
  return (argv) =>
    basename(argv[0] ?? '') === 'caddy' &&
    argv[1] === 'run' &&
    argv.includes(configFile) &&
    (opts.resume === undefined || argv.includes('--resume') === opts.resume);
}

/**
 * A process killed with SIGKILL cannot stop its Caddy: the orphan keeps the listeners, and the
 * next Caddy could never take them. The pid file lets the next start end it first — only if that
 * process still runs `caddy` with this directory's config, never a stranger.
 */
export async function stopLeftover(pidFile: string, configFile: string): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (Number.isInteger(pid) && (await argvOf(pid))) {
    await terminate(pid, caddyRunning(configFile), 5_000);
  }
  await rm(pidFile, { force: true });
}

/**
 * Whether the Caddy answering at `adminUrl` is the one whose storage is `storageRoot`: the
 * storage root names the process, so a stranger that took the port is never mistaken for ours.
 */
export async function caddyAnswers(adminUrl: string, storageRoot: string): Promise<boolean> {
  return (await adminGet(adminUrl, '/config/storage/root')) === JSON.stringify(storageRoot);
}

/** Starts `caddy run` with its config and log in `dir`; waits until its admin API answers. */
export async function startCaddy(opts: { dir: string; name?: string }): Promise<CaddyServer> {
  await privateDir(opts.dir);
  const name = opts.name ?? 'caddy';
  const configFile = join(opts.dir, 'caddy.json');
  const logFile = join(opts.dir, 'caddy.log');
  const pidFile = join(opts.dir, 'caddy.pid');
  await stopLeftover(pidFile, configFile);
  const socket = adminSocketOf(opts.dir);
  const adminUrl = adminSocketUrl(socket);
  try {
    // No Caddy of this directory runs now: a socket file left is stale.
    await rm(socket, { force: true });
    await writeFile(configFile, JSON.stringify(caddyInitialConfig(opts.dir), null, 2));
    const daemon = await spawnDaemon({
      name,
      command: 'caddy',
      args: ['run', '--config', configFile],
      logFile,
      cwd: opts.dir,
      // Not the controller's environment: it holds GANTRY_* settings, tokens and keys.
      env: minimalEnv(process.env),
    });
    await writeFile(pidFile, String(daemon.pid));
    await waitReady(daemon, `GET ${adminUrl}/config/`, () =>
      caddyAnswers(adminUrl, join(opts.dir, 'storage')),
    );
    return { adminUrl, logFile, stop: () => daemon.stop() };
  } catch (e) {
    throw new GantryError('GANTRY_ERR_EDGE_UNAVAILABLE', `cannot start Caddy: ${errorMessage(e)}`, {
      cause: e,
    });
  }
}

/** Starts the front and back Caddy under `dir/front` and `dir/back`; access logs go to `dir`. */
export async function startCaddyPair(opts: { dir: string }): Promise<CaddyPair> {
  const [front, back] = await Promise.allSettled([
    startCaddy({ dir: join(opts.dir, 'front'), name: 'caddy-front' }),
    startCaddy({ dir: join(opts.dir, 'back'), name: 'caddy-back' }),
  ]);
  if (front.status === 'rejected' || back.status === 'rejected') {
    // Do not leave the half that started running.
    if (front.status === 'fulfilled') await front.value.stop();
    if (back.status === 'fulfilled') await back.value.stop();
    throw front.status === 'rejected' ? front.reason : (back as PromiseRejectedResult).reason;
  }
  return {
    front: front.value,
    back: back.value,
    logDir: opts.dir,
    stop: async () => {
      await Promise.all([front.value.stop(), back.value.stop()]);
    },
  };
}

// The body as text, or undefined on any failure; a fresh connection (Caddy restarts its admin
// server on every config load).
function adminGet(adminUrl: string, path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const { target, host } = adminTarget(adminUrl);
    const req = request(
      {
        ...target,
        setHost: false,
        path,
        agent: false,
        timeout: 1_000,
        headers: { host, connection: 'close' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
