/** A private `redis-server` for tests and the demo: its own port and directory, the settings BullMQ needs. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { GantryError, errorMessage } from '../errors.js';
import { freePort, spawnDaemon, waitReady } from '../process/daemon.js';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** The argv of a Redis with AOF on and no eviction (BullMQ loses jobs otherwise); no RDB snapshots. */
export function redisArgs(dir: string, port: number): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--maxmemory-policy',
    'noeviction',
    '--save',
    '',
    '--daemonize',
    'no',
  ];
}

/** Starts `redis-server` in `dir` on `port` (0 or absent: a free one) and waits until it answers PING. */
export async function startRedis(opts: { dir: string; port?: number }): Promise<RedisServer> {
  await mkdir(opts.dir, { recursive: true });
  const pickPort = !opts.port;
  // A free port can be taken between picking and binding; with a port of our choosing, pick again.
  for (let attempt = 1; ; attempt++) {
    const port = pickPort ? await freePort() : (opts.port as number);
    try {
      const daemon = await spawnDaemon({
        name: 'redis-server',
        command: 'redis-server',
        args: redisArgs(opts.dir, port),
        logFile: join(opts.dir, 'redis.log'),
        cwd: opts.dir,
      });
      await waitReady(daemon, `PING on port ${port}`, () => answersAs(port, daemon.pid));
      return { url: `redis://127.0.0.1:${port}`, port, stop: () => daemon.stop() };
    } catch (e) {
      if (pickPort && attempt < 3 && /Address already in use/i.test(errorMessage(e))) continue;
      const message = `cannot start Redis: ${errorMessage(e)}`;
      throw new GantryError('GANTRY_ERR_QUEUE_UNAVAILABLE', message, { cause: e });
    }
  }
}

// Whoever answers on the port must be our process: another Redis may hold it already.
async function answersAs(port: number, pid: number): Promise<boolean> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 1_000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined); // a refused connection is the expected answer while it starts
  try {
    await client.connect();
    if ((await client.ping()) !== 'PONG') return false;
    const info = await client.info('server');
    return new RegExp(`^process_id:${pid}\\r?$`, 'm').test(info);
  } finally {
    client.disconnect();
  }
}
