/**
 * Builds the controller's targets from its config (src/config/targets-config.ts): each Docker
 * target a DockerRuntime behind the one Caddy edge they share (adopted or started when managed),
 * each Kubernetes target its runtime and Service edge. Only composition: no decisions here.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { ControllerConfig } from './config/controller-config.js';
import { routeIdOf } from './config/env-names.js';
import { targetsOf, type TargetConfig } from './config/targets-config.js';
import { Targets, type Target } from './deploy/targets.js';
import { CaddyEdge } from './edge/caddy/caddy-edge.js';
import type { Edge } from './edge/edge.js';
import { nextListenPort } from './edge/listen-port.js';
import { ensureEdge } from './edge/supervisor/ensure-edge.js';
import { GantryError } from './errors.js';
import { DockerRuntime } from './runtime/docker/docker-runtime.js';
import type { Store } from './store/store.js';

export interface StartedTargets {
  readonly targets: Targets;
  /** The Caddy edge of the Docker targets, when there is one (its CA serves `GET /api/edge/ca`). */
  readonly caddy: Edge | undefined;
  /** Closes the Kubernetes watches; the managed edge outlives the controller (src/edge/supervisor/). */
  close(): void;
}

/** Connects every target the config names. */
export async function startTargets(
  config: ControllerConfig,
  store: Store,
  log: Logger,
): Promise<StartedTargets> {
  const plan = targetsOf(config);
  let caddy: Promise<CaddyEdge> | undefined;
  const closers: (() => void)[] = [];
  const list: Target[] = [];
  for (const t of plan.targets) {
    if (t.kind === 'docker') {
      caddy ??= startCaddyEdge(config);
      list.push(dockerTarget(t, config, store, await caddy, log));
    } else {
      // Loaded only for a Kubernetes target: the client library alone is ~80 MB of memory.
      const { startKubernetesTarget } = await import('./runtime/kubernetes/target.js');
      const kube = await startKubernetesTarget(t, log, config.registry);
      closers.push(() => kube.close());
      list.push(kubernetesTarget(t.name, kube.runtime, kube.edge));
    }
  }
  return {
    targets: new Targets(list, plan.defaultTarget),
    caddy: caddy && (await caddy),
    close: () => closers.forEach((close) => close()),
  };
}

/** Docker hosts behind the shared Caddy edge: each environment gets its own listener port. */
function dockerTarget(
  t: Extract<TargetConfig, { kind: 'docker' }>,
  config: ControllerConfig,
  store: Store,
  edge: CaddyEdge,
  log: Logger,
): Target {
  const runtime = new DockerRuntime({ hosts: t.hosts, registry: config.registry });
  // One-offs a controller left behind when it died (release phase, `gantry run`), once past their
  // deadline; a release phase still within it is left for its resumed rollout to attach to.
  void runtime
    .sweepOneOffs(Date.now())
    .catch((err: unknown) =>
      log.warn({ err: String(err), target: t.name }, 'one-off sweep failed'),
    );
  return {
    name: t.name,
    kind: 'docker',
    runtime,
    edge,
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
}

/** Pods of per-revision ReplicaSets in one namespace, a Service per environment as the edge. */
function kubernetesTarget(name: string, runtime: Target['runtime'], edge: Edge): Target {
  return {
    name,
    kind: 'kubernetes',
    runtime,
    edge,
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
}

/** The Caddy edge: adopts the one an earlier controller left serving, or starts its supervisor. */
async function startCaddyEdge(config: ControllerConfig): Promise<CaddyEdge> {
  let edgeUrls: { front: string; back: string; logDir: string };
  if (config.edge.manage) {
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
  return new CaddyEdge({
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
}
