import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildServer } from './api/server.js';
import type { ControllerConfig } from './config/controller-config.js';
import { routeIdOf } from './config/env-names.js';
import { maxContextBytesOf, retryPolicyOf, sourceLimitsOf } from './config/limits-config.js';
import { LiveConfig } from './config/live-config.js';
import { reloadConfigFile, type ReloadReport } from './config/reload.js';
import { GantryError } from './errors.js';
import { createQueues, type Queues } from './queue/queues.js';
import { startWorkers, type Workers } from './workers.js';
import { checkRedisDurability, connectRedis } from './redis.js';
import { DockerImageBuilder } from './runtime/docker/images.js';
import { DockerRuntime } from './runtime/docker/docker-runtime.js';
import { startKubernetesTarget, type KubernetesTarget } from './runtime/kubernetes/target.js';
import type { Runtime } from './runtime/runtime.js';
import type { Edge } from './edge/edge.js';
import { CaddyEdge } from './edge/caddy/caddy-edge.js';
import { nextListenPort } from './edge/listen-port.js';
import { ensureEdge } from './edge/supervisor/ensure-edge.js';
import { enqueueAfterBuild } from './deploy/enqueue.js';
import type { RolloutDeps } from './deploy/rollout-runner.js';
import { RolloutStore } from './store/rollouts.js';
import path from 'node:path';
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
    runtime: deploy?.deps.runtime,
    edge: deploy?.deps.edge,
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
    runtime: deploy?.deps.runtime,
    edge: deploy?.deps.edge,
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
      deploy?.kube?.close();
    },
  };
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

/** The rollout side: the Docker runtime, the Caddy edge (adopted or started when managed), routes. */
async function startDeploy(
  config: ControllerConfig,
  store: Store,
  rollouts: RolloutStore,
  repos: RepoRegistry,
  log: Logger,
  releaseStores: ReleaseStores,
): Promise<{ deps: RolloutDeps; kube?: KubernetesTarget }> {
  if (config.runtime.kind === 'kubernetes') {
    return startKubernetesDeploy(config, store, rollouts, repos, log, releaseStores);
  }
  const runtime = new DockerRuntime({ hosts: config.runtime.hosts, registry: config.registry });
  // One-offs a controller left behind when it died (release phase, `gantry run`), once past their
  // deadline; a release phase still within it is left for its resumed rollout to attach to.
  void runtime
    .sweepOneOffs(Date.now())
    .catch((err: unknown) => log.warn({ err: String(err) }, 'one-off sweep failed'));
  let edgeUrls: { front: string; back: string; logDir: string };
  if (config.edge.manage) {
    // Adopts the edge an earlier controller left serving, or starts its supervisor.
    const edge = await ensureEdge({ dir: path.join(config.dataDir, 'edge') });
    edgeUrls = { front: edge.frontAdminUrl, back: edge.backAdminUrl, logDir: edge.logDir };
  } else {
    const { frontAdminUrl, backAdminUrl, logDir } = config.edge;
    if (!frontAdminUrl || !backAdminUrl || !logDir) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        'edge.manage is false: set edge.frontAdminUrl, edge.backAdminUrl and edge.logDir',
      );
    }
    edgeUrls = { front: frontAdminUrl, back: backAdminUrl, logDir };
  }
  const edge = new CaddyEdge({
    frontAdminUrl: edgeUrls.front,
    backAdminUrl: edgeUrls.back,
    logDir: edgeUrls.logDir,
    name: `gantry-${config.redis.prefix}`.slice(0, 60),
    https: {
      host: config.edge.listenHost,
      httpPort: config.edge.httpPort,
      httpsPort: config.edge.httpsPort,
      tls: config.edge.tls,
      acme: config.edge.acme,
    },
  });
  const deps: RolloutDeps = {
    ...releaseStores,
    store,
    rollouts,
    repos,
    runtime,
    edge,
    log,
    tickMs: config.deploy.tickMs,
    keepImages: config.deploy.keepImages,
    specLimits: config.deploy,
    runtimeWaitMs: parseDuration(config.reconcile.engineWait) ?? 120_000,
    // Each environment gets its own listener the first time it is deployed, kept from then on.
    async routeFor(app, env, spec) {
      const host = config.edge.listenHost;
      const port = await nextListenPort(
        host,
        async () => config.edge.basePort + (await store.redis.incr(store.keys.edgePorts())) - 1,
      );
      // The port serves every Host (setups without DNS); the domains are served over HTTPS.
      const domains = spec.environments[env]?.domains ?? [];
      return {
        id: routeIdOf(app, env),
        listen: { host, port },
        ...(domains.length > 0 ? { domains } : {}),
      };
    },
  };
  return { deps };
}

/**
 * The rollout side on Kubernetes: pods of per-revision ReplicaSets in one namespace, and a
 * Service per environment as the edge. Images are built and pushed as on Docker.
 */
async function startKubernetesDeploy(
  config: ControllerConfig,
  store: Store,
  rollouts: RolloutStore,
  repos: RepoRegistry,
  log: Logger,
  releaseStores: ReleaseStores,
): Promise<{ deps: RolloutDeps; kube: KubernetesTarget }> {
  const { namespace, inCluster, kubeconfig, context, drainMs } = config.runtime;
  if (!namespace) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      'runtime.kind is kubernetes: set runtime.namespace (where pods, ReplicaSets and Services go)',
    );
  }
  const kube = await startKubernetesTarget(
    { namespace, inCluster, kubeconfig, context, drainMs },
    log,
    config.registry,
  );
  const deps: RolloutDeps = {
    ...releaseStores,
    store,
    rollouts,
    repos,
    runtime: kube.runtime,
    edge: kube.edge,
    log,
    tickMs: config.deploy.tickMs,
    keepImages: config.deploy.keepImages,
    specLimits: config.deploy,
    runtimeWaitMs: parseDuration(config.reconcile.engineWait) ?? 120_000,
    // Each environment's Service has its own cluster IP: every one listens on port 80.
    async routeFor(app, env, spec) {
      const domain = spec.environments[env]?.domain;
      return {
        id: routeIdOf(app, env),
        listen: { host: '0.0.0.0', port: 80 },
        ...(domain ? { domain } : {}),
      };
    },
  };
  return { deps, kube };
}
