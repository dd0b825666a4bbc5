/**
 * The local services tests and the demo run against: a private Redis and registry on free ports,
 * and the machine's Docker engine. The scripts install and start things; this code only checks.
 */
import { request } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GantryError, errorMessage } from '../errors.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { startRegistry, type RegistryServer } from './registry-server.js';

export { freePort } from '../process/daemon.js';
export type { RedisServer } from './redis-server.js';
export type { RegistryServer } from './registry-server.js';

/** The base image `scripts/base-image.sh` builds with `docker import`; examples build FROM it. */
export const BASE_IMAGE = 'gantry.local/busybox:1';

export interface LocalServices {
  readonly root: string;
  readonly redis: RedisServer;
  readonly registry: RegistryServer;
  stop(): Promise<void>;
}

/** Starts Redis (in `root/redis`) and the registry (in `root/registry`), each on a free port. */
export async function startLocalServices(opts: { root: string }): Promise<LocalServices> {
  await mkdir(opts.root, { recursive: true });
  const [redis, registry] = await Promise.allSettled([
    startRedis({ dir: join(opts.root, 'redis') }),
    startRegistry({ dir: join(opts.root, 'registry') }),
  ]);
  if (redis.status === 'rejected' || registry.status === 'rejected') {
    // Do not leave the half that started running.
    if (redis.status === 'fulfilled') await redis.value.stop();
    if (registry.status === 'fulfilled') await registry.value.stop();
    throw redis.status === 'rejected' ? redis.reason : (registry as PromiseRejectedResult).reason;
  }
  return {
    root: opts.root,
    redis: redis.value,
    registry: registry.value,
    stop: async () => {
      await Promise.all([redis.value.stop(), registry.value.stop()]);
    },
  };
}

/** Where the Docker engine listens, from DOCKER_HOST (unix:// or tcp://) or the default socket. */
export interface DockerEndpoint {
  readonly display: string;
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
}

export function dockerEndpoint(dockerHost = process.env.DOCKER_HOST): DockerEndpoint {
  if (!dockerHost)
    return { display: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) {
    return { display: dockerHost, socketPath: dockerHost.slice('unix://'.length) };
  }
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (tcp?.[1] && tcp[2]) return { display: dockerHost, host: tcp[1], port: Number(tcp[2]) };
  throw new GantryError(
    'GANTRY_ERR_DOCKER_UNAVAILABLE',
    `DOCKER_HOST=${dockerHost} is not supported here; use unix:///path or tcp://host:port`,
  );
}

export interface DockerEngine {
  readonly endpoint: string;
  readonly version: string;
  readonly apiVersion: string;
}

/** Checks the Docker engine answers; throws GANTRY_ERR_DOCKER_UNAVAILABLE saying how to start it. */
export async function ensureDocker(opts: { timeoutMs?: number } = {}): Promise<DockerEngine> {
  const endpoint = dockerEndpoint();
  try {
    const { status, body } = await dockerGet(endpoint, '/version', opts.timeoutMs ?? 5_000);
    if (status !== 200) throw new Error(`GET /version answered ${status}`);
    const info = JSON.parse(body) as { Version?: unknown; ApiVersion?: unknown };
    return {
      endpoint: endpoint.display,
      version: String(info.Version),
      apiVersion: String(info.ApiVersion),
    };
  } catch (e) {
    throw new GantryError(
      'GANTRY_ERR_DOCKER_UNAVAILABLE',
      `the Docker engine is not reachable at ${endpoint.display} (${errorMessage(e)}); ` +
        'run `bash scripts/setup.sh` (as root on Debian it installs docker.io and starts dockerd), ' +
        'or point DOCKER_HOST at a running engine',
      { cause: e },
    );
  }
}

/** Whether the engine has the image `ref` (e.g. BASE_IMAGE). */
export async function hasImage(ref: string, timeoutMs = 5_000): Promise<boolean> {
  const { status } = await dockerGet(dockerEndpoint(), `/images/${encodeURI(ref)}/json`, timeoutMs);
  return status === 200;
}

function dockerGet(
  endpoint: DockerEndpoint,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: endpoint.socketPath,
        host: endpoint.host,
        port: endpoint.port,
        path,
        method: 'GET',
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
