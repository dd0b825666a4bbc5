import type { AppSpec } from '../config/app-spec.js';
import type { SpecLimits } from '../config/spec-limits.js';
import type { Edge, RouteSpec } from '../edge/edge.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Targets } from './targets.js';
import type { RepoRegistry } from '../source/repos.js';
import type { LeaseRef, RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import type { Logger } from 'pino';
import type { ConfigStore } from '../release/config-store.js';
import type { ReleaseStore } from '../release/releases.js';

/** What running rollouts (and holding environments between them) needs from the controller. */
export interface RolloutDeps {
  store: Store;
  rollouts: RolloutStore;
  repos: RepoRegistry;
  runtime: Runtime;
  edge: Edge;
  log: Logger;
  /** Picks the listener of an environment the first time it is deployed. */
  routeFor(app: string, env: string, spec: AppSpec): Promise<RouteSpec>;
  /** How often the loop observes and decides. */
  tickMs: number;
  /** Succeeded revisions per environment whose images stay on every host (the rollback window). */
  keepImages: number;
  /** Config vars and sealed secrets per app and environment. */
  config: ConfigStore;
  releases: ReleaseStore;
  /** How long a rollout waits for an unreachable runtime before it gives up (default 120 s). */
  runtimeWaitMs?: number;
  /** The most replicas and surge a spec may ask for (deploy.maxReplicas/maxSurge; default 200/50). */
  specLimits?: SpecLimits;
  /**
   * The controller's targets: each rollout runs on its environment's, in place of `runtime`,
   * `edge` and `routeFor` (which stay the default target's). Absent: those serve everything.
   */
  targets?: Targets | undefined;
}

/**
 * The environment's lease as the runner sees it. A process that stalled (frozen, paused) past its
 * lease may wake up while another one runs this or the next rollout of the environment: it checks
 * before every step and every action, and each state write is conditional on the lease in Redis.
 */
export interface Fence extends LeaseRef {
  /** Throws when this process may no longer act for the environment. */
  check(): void;
  /** Called when a write conditional on the lease found it taken; throws. */
  lose(): never;
}
