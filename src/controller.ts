import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildServer } from './api/server.js';
import type { ControllerConfig } from './config/controller-config.js';
import { createQueues, type Queues } from './queue/queues.js';
import { startWorkers, type Workers } from './queue/workers.js';
import { checkRedisDurability, connectRedis } from './redis.js';
import { DockerImageBuilder } from './runtime/docker/images.js';
import { startPoller } from './source/poller.js';
import { RepoRegistry } from './source/repos.js';
import { Store } from './store/store.js';

const CLOSE_GRACE_MS = 10_000;

export interface Controller {
  url: string;
  app: FastifyInstance;
  store: Store;
  queues: Queues;
  workers: Workers | undefined;
  repos: RepoRegistry;
  redis: Redis;
  close(): Promise<void>;
}

export interface ControllerOptions {
  log: Logger;
  /** Run the queue consumers in this process (default); a pure API node can turn them off. */
  workers?: boolean;
  /** How long close() waits for active jobs; an unfinished job is retried by another worker. */
  closeGraceMs?: number;
}

/**
 * Wires the controller together: Redis → store and queues → workers → poller → HTTP.
 * Every part is also usable alone; this is only the table of contents.
 */
export async function startController(
  config: ControllerConfig,
  opts: ControllerOptions,
): Promise<Controller> {
  const { log } = opts;
  const redis = await connectRedis(config.redis.url);
  await checkRedisDurability(redis, log);
  const store = new Store(redis, config.redis.prefix);
  const queues = await createQueues(redis, config.redis.prefix, config.build.attempts);
  const repos = new RepoRegistry(config.repos, config.dataDir);
  const builder = new DockerImageBuilder(config.docker);

  const workers =
    opts.workers === false
      ? undefined
      : startWorkers(
          {
            redisUrl: config.redis.url,
            prefix: config.redis.prefix,
            buildConcurrency: config.build.concurrency,
            log,
          },
          { store, queues, repos, log, buildDebounceMs: config.build.debounceMs },
          {
            store,
            repos,
            builder,
            registry: config.registry.address,
            timeoutSeconds: config.build.timeoutSeconds,
            logLines: config.build.logLines,
            log,
          },
        );
  const stopPoller = startPoller({ repos, store, queues, log });

  const app = await buildServer({
    store,
    queues,
    repos,
    redis,
    tokens: config.tokens,
    bodyLimitBytes: config.webhooks.bodyLimitBytes,
    apiBodyLimitBytes: config.api.bodyLimitBytes,
    log,
  });
  const url = await app.listen({ host: config.listen.host, port: config.listen.port });
  log.info({ url }, 'gantry controller listening');

  return {
    url,
    app,
    store,
    queues,
    workers,
    repos,
    redis,
    async close() {
      stopPoller();
      await app.close();
      // Workers finish their active jobs; if Redis is gone they cannot, so do not wait forever.
      await Promise.race([
        Promise.all([workers?.close(), queues.close()]),
        new Promise((r) => setTimeout(r, opts.closeGraceMs ?? CLOSE_GRACE_MS).unref()),
      ]);
      redis.disconnect();
    },
  };
}
