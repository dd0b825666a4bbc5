import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildServer } from './api/server.js';
import type { ControllerConfig } from './config/controller-config.js';
import { maxContextBytesOf, retryPolicyOf, sourceLimitsOf } from './config/limits-config.js';
import { LiveConfig } from './config/live-config.js';
import { reloadConfigFile, type ReloadReport } from './config/reload.js';
import { createQueues, type Queues } from './queue/queues.js';
import { startWorkers, type Workers } from './workers.js';
import { checkRedisDurability, connectRedis } from './redis.js';
import { DockerImageBuilder } from './runtime/docker/images.js';
import type { Runtime } from './runtime/runtime.js';
import { TargetRuntime } from './runtime/targets.js';
import type { Edge } from './edge/edge.js';
import { startTargets } from './start-targets.js';
import type { KnownTargets } from './config/spec-targets.js';
import { targetsOf } from './config/targets-config.js';
import { enqueueAfterBuild } from './deploy/enqueue.js';
import type { RolloutDeps } from './deploy/rollout-runner.js';
import { RolloutStore } from './store/rollouts.js';
import { startPoller } from './source/poller.js';
import { RepoRegistry } from './source/repos.js';
import { Store } from './store/store.js';
import { startReporter } from './history/reporter.js';
import { RetentionSweeper, startRetention } from './history/retention.js';
import { startRegistryPrune } from './registry/prune-schedule.js';
import { registryPruner } from './registry/pruner.js';
import { startMetrics } from './metrics/controller-metrics.js';
import { parseDuration } from './config/units.js';
import { Reconciler } from './reconcile/reconciler.js';
import { ConfigStore } from './release/config-store.js';
import { ReleaseStore } from './release/releases.js';
import { loadSecretBox } from './release/secret-keys.js';
import { prune } from './deploy/operations/prune.js';
import { rolloutJobId } from './queue/names.js';
import type { RolloutRecord } from './store/records.js';
import { randomUUID } from 'node:crypto';

const CLOSE_GRACE_MS = 10_000;

export interface Controller {
  url: string;
  app: FastifyInstance;
  store: Store;
  queues: Queues;
  workers: Workers | undefined;
  repos: RepoRegistry;
  redis: Redis;
  rollouts: RolloutStore;
  runtime: Runtime | undefined;
  edge: Edge | undefined;
  /** The config as it runs now: repos, tokens and notifications change on reload. */
  config: LiveConfig;
  /** Re-reads `configFile` (SIGHUP, `POST /api/config/reload`); throws GANTRY_ERR_CONFIG_REJECTED. */
  reloadConfig(): ReloadReport;
  close(): Promise<void>;
}

export interface ControllerOptions {
  log: Logger;
  /** Run the queue consumers in this process (default); a pure API node can turn them off. */
  workers?: boolean;
  /** How long close() waits for active jobs; an unfinished job is retried by another worker. */
  closeGraceMs?: number;
  /** The file `config` was read from: what a reload re-reads (none: reload answers 409). */
  configFile?: string;
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
  const retry = retryPolicyOf(config.build);
  const queues = await createQueues(redis, config.redis.prefix, retry);
  const repos = new RepoRegistry(config.repos, config.dataDir, sourceLimitsOf(config.source));
  // Repos, tokens and notifications reload live (src/config/reload.ts); the rest needs a restart.
  const live = new LiveConfig(config);
  live.onChange((next) => repos.replace(next.repos));
  const reloadConfig = () => reloadConfigFile({ live, file: opts.configFile, log });
  const builder = new DockerImageBuilder({ ...config.docker, registry: config.registry });
  const rollouts = new RolloutStore(redis, store.keys);
  // Config vars and sealed secrets per environment, and the releases they make.
  const releaseStores: ReleaseStores = {
    config: new ConfigStore(redis, store.keys, await loadSecretBox(config.secrets, config.dataDir)),
    releases: new ReleaseStore(redis, store.keys, async (app, env) => {
      return (await rollouts.env(app, env)).current?.release;
    }),
  };
  const deploy = config.deploy.enabled
    ? await startDeploy(config, store, rollouts, repos, log, releaseStores)
    : undefined;

  const workers =
    opts.workers === false
      ? undefined
      : startWorkers(
          {
            redisUrl: config.redis.url,
            prefix: config.redis.prefix,
            buildConcurrency: config.build.concurrency,
            retry,
            log,
            afterBuild: deploy
              ? async (job) => {
                  const build = await store.getBuild(job.buildId);
                  await enqueueAfterBuild(
                    { store, rollouts, queues, log },
                    { ...job, trigger: build?.trigger ?? { kind: 'poll' } },
                  );
                }
              : undefined,
          },
          {
            store,
            queues,
            repos,
            log,
            buildDebounceMs: config.build.debounceMs,
            specLimits: config.deploy,
            targets: knownTargets(config),
          },
          {
            store,
            repos,
            builder,
            registry: config.registry.address,
            timeoutSeconds: config.build.timeoutSeconds,
            logLines: config.build.logLines,
            retry,
            maxContextBytes: maxContextBytesOf(config.build),
            log,
          },
          deploy?.deps,
        );
  // Between rollouts, every environment is held to its record (src/reconcile/), on the nodes
  // that run rollouts.
  const reconciler =
    deploy && opts.workers !== false
      ? new Reconciler(
          {
            ...deploy.deps,
            controllerId: randomUUID(),
            selfHeal: config.reconcile.selfHeal,
            strayGraceMs: parseDuration(config.reconcile.strayGrace) ?? 60_000,
            rolloutPending: (rec) => rolloutPending(queues, rec),
            // Opt-in (Argo CD's prune): orphans are otherwise only shown until someone prunes them.
            autoPrune: config.reconcile.prune
              ? async (app, env) => {
                  await prune(
                    { ...deploy.deps, queues },
                    { app, env, actor: 'controller (reconcile.prune)' },
                  );
                }
              : undefined,
          },
          { intervalMs: parseDuration(config.reconcile.interval) ?? 30_000 },
        )
      : undefined;
  // A rollout that ended hands its environment back: the status follows at once.
  const handBack = (job: { data: { app: string; env: string } } | undefined) => {
    if (job) reconciler?.poke(job.data.app, job.data.env);
  };
  workers?.rollouts?.on('completed', handBack);
  workers?.rollouts?.on('failed', handBack);
  const stopPoller = startPoller({ repos, store, queues, log });
  const observed = await startMetrics({ redis, store, rollouts, queues, log });
  const stopRetention = startRetention(
    new RetentionSweeper(redis, store.keys, rollouts, config.history, () =>
      repos.all().map((r) => r.config.name),
    ),
    log,
  );
  const registryPrune = registryPruner(config, { store, rollouts, queues, log });
  const stopRegistryPrune = startRegistryPrune(
    () => registryPrune({ dryRun: false }),
    parseDuration(config.registry.prune.interval) ?? 0,
    log,
  );

  const app = await buildServer({
    store,
    rollouts,
    queues,
    repos,
    redis,
    tokens: () => live.current().tokens,
    bodyLimitBytes: config.webhooks.bodyLimitBytes,
    apiBodyLimitBytes: config.api.bodyLimitBytes,
    metrics: observed.metrics,
    publicUrl: config.api.publicUrl,
    rateLimit: {
      max: config.api.rateLimit.max,
      timeWindowMs: parseDuration(config.api.rateLimit.timeWindow) ?? 60_000,
    },
    sseHeartbeatMs: parseDuration(config.api.sseHeartbeat) ?? 15_000,
    streamLimits: config.api.streams,
    webhookFailureLimit: {
      max: config.webhooks.failedSignatures.max,
      timeWindowMs: parseDuration(config.webhooks.failedSignatures.timeWindow) ?? 60_000,
    },
    runtime: deploy?.api.runtime,
    edge: deploy?.api.edge,
    targets: deploy?.deps.targets,
    config: () => live.current(),
    reloadConfig,
    appConfig: releaseStores.config,
    releases: releaseStores.releases,
    pruneRegistry: registryPrune,
    log,
  });
  const url = await app.listen({ host: config.listen.host, port: config.listen.port });
  log.info({ url }, 'gantry controller listening');
  await reconciler?.start();
  // Statuses, git notes and notifications: beside the rollouts, on nodes that run the workers.
  const reporter =
    opts.workers === false
      ? undefined
      : await startReporter({
          redis,
          keys: store.keys,
          store,
          rollouts,
          repos,
          notifications: () => live.current().notifications,
          publicUrl: config.api.publicUrl ?? url,
          log,
        });

  return {
    url,
    app,
    store,
    queues,
    workers,
    repos,
    redis,
    rollouts,
    runtime: deploy?.api.runtime,
    edge: deploy?.api.edge,
    config: live,
    reloadConfig,
    async close() {
      stopPoller();
      await reconciler?.stop();
      stopRetention();
      stopRegistryPrune();
      await app.close();
      await observed.stop();
      await reporter?.stop();
      // Workers finish their active jobs; if Redis is gone they cannot, so do not wait forever.
      await Promise.race([
        Promise.all([workers?.close(), queues.close()]),
        new Promise((r) => setTimeout(r, opts.closeGraceMs ?? CLOSE_GRACE_MS).unref()),
      ]);
      redis.disconnect();
      // The managed edge is not stopped: it outlives the controller (src/edge/supervisor/).
      deploy?.close();
    },
  };
}

/** The target names gantry.yaml may use, checked at every push. */
function knownTargets(config: ControllerConfig): KnownTargets {
  const plan = targetsOf(config);
  return { names: plan.targets.map((t) => t.name), defaultTarget: plan.defaultTarget };
}

/** Where releases and their config live. */
interface ReleaseStores {
  config: ConfigStore;
  releases: ReleaseStore;
}

/** Whether a rollout's job is still queued, running or waiting to be resumed by a worker. */
async function rolloutPending(queues: Queues, rec: RolloutRecord): Promise<boolean> {
  const id = rolloutJobId(rec.app, rec.env, rec.to.sha, rec.kind, rec.id);
  const state = await queues.rollouts.getJobState(id);
  return ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state);
}

/**
 * The rollout side: every target of the config (src/start-targets.ts). The default target's
 * runtime and edge stand in `deps.runtime`/`deps.edge`; each rollout and reconcile pass uses its
 * environment's own (`deps.targets`), and the API a runtime that routes by environment.
 */
async function startDeploy(
  config: ControllerConfig,
  store: Store,
  rollouts: RolloutStore,
  repos: RepoRegistry,
  log: Logger,
  releaseStores: ReleaseStores,
): Promise<{ deps: RolloutDeps; api: { runtime: Runtime; edge: Edge }; close(): void }> {
  const started = await startTargets(config, store, log);
  const { targets } = started;
  const fallback = targets.get(targets.defaultTarget);
  const deps: RolloutDeps = {
    ...releaseStores,
    store,
    rollouts,
    repos,
    runtime: fallback.runtime,
    edge: fallback.edge,
    routeFor: (app, env, spec) => fallback.routeFor(app, env, spec),
    targets,
    log,
    tickMs: config.deploy.tickMs,
    keepImages: config.deploy.keepImages,
    specLimits: config.deploy,
    runtimeWaitMs: parseDuration(config.reconcile.engineWait) ?? 120_000,
  };
  const runtime = new TargetRuntime(
    targets.all().map((t) => t.runtime),
    async (app, env) => targets.ofState(await rollouts.env(app, env)).runtime,
  );
  return { deps, api: { runtime, edge: started.caddy ?? fallback.edge }, close: started.close };
}
