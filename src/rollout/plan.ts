/**
 * The plan of one rollout: everything the state machine needs to know that does not change while
 * it runs, built once from the app spec and the rollout's context. Plain JSON, persisted with it.
 */
import type { AppSpec, HealthCheck } from '../config/app-spec.js';

/** A built revision: a commit and the image pinned from it (`repo@sha256:…`). */
export interface Revision {
  readonly sha: string;
  readonly image: string;
  /**
   * The release (image + config, numbered per environment) when the rollout moves releases: a
   * config change moves from one release to another of the same commit. Absent on plans made
   * before releases existed: the commit alone then says what an instance runs.
   */
  readonly release?: number | undefined;
}

/** Why the rollout exists; `auto-rollback` never rolls back itself (it would ping-pong). */
export type RolloutKind = 'deploy' | 'rollback' | 'auto-rollback';

export interface HealthRules {
  /** For the prober; the core only counts results. */
  readonly check: HealthCheck;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Failed probes this soon after the process started do not count (Docker semantics). */
  readonly startPeriodMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** Restarts, counted from when the rollout first saw an instance, that make it unhealthy at once. */
  readonly maxRestarts: number;
}

/** When the edge's error rate during bake fails the rollout. */
export interface ErrorBudget {
  readonly maxErrorRate: number;
  /** Fewer requests than this say nothing about the revision. */
  readonly minRequests: number;
}

export interface RolloutPlan {
  readonly rolloutId: string;
  readonly app: string;
  readonly env: string;
  readonly kind: RolloutKind;
  /** What runs now; null for a first deploy. */
  readonly from: Revision | null;
  readonly to: Revision;
  readonly replicas: number;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly health: HealthRules;
  readonly progressDeadlineMs: number;
  readonly bakeMs: number;
  /** How long an unrouted instance keeps running so in-flight requests can finish. */
  readonly drainMs: number;
  readonly autoRollback: boolean;
  readonly errorBudget: ErrorBudget;
  /** Where instances may run; replicas are spread over them round-robin. */
  readonly hosts: readonly string[];
}

export interface PlanInput {
  readonly rolloutId: string;
  readonly env: string;
  readonly spec: AppSpec;
  readonly from: Revision | null | undefined;
  readonly to: Revision;
  readonly hosts: readonly string[];
  readonly kind?: RolloutKind;
  readonly drainMs?: number;
  readonly maxRestarts?: number;
  readonly errorBudget?: ErrorBudget;
}

export const DEFAULT_DRAIN_MS = 5_000;
export const DEFAULT_MAX_RESTARTS = 2;
export const DEFAULT_ERROR_BUDGET: ErrorBudget = { maxErrorRate: 0.05, minRequests: 20 };

/** Builds the plan of one rollout from the app spec and its context. Throws RangeError on impossible input. */
export function planRollout(input: PlanInput): RolloutPlan {
  const { spec } = input;
  const { maxSurge, maxUnavailable } = spec.rollout;
  if (input.hosts.length === 0) throw new RangeError('a rollout needs at least one host');
  if (input.rolloutId === '')
    throw new RangeError('a rollout needs an id: slots are named after it');
  // With neither surge nor unavailability, no instance could ever be replaced; the spec rules
  // reject it, so meeting it here is a caller's bug.
  if (maxSurge === 0 && maxUnavailable === 0)
    throw new RangeError('maxSurge and maxUnavailable cannot both be 0');
  const kind = input.kind ?? 'deploy';
  return {
    rolloutId: input.rolloutId,
    app: spec.app,
    env: input.env,
    kind,
    from: input.from ?? null,
    to: input.to,
    replicas: spec.run.replicas,
    maxSurge,
    maxUnavailable,
    health: {
      check: spec.health.check,
      intervalMs: spec.health.intervalMs,
      timeoutMs: spec.health.timeoutMs,
      startPeriodMs: spec.health.startPeriodMs,
      healthyThreshold: spec.health.healthyThreshold,
      unhealthyThreshold: spec.health.unhealthyThreshold,
      maxRestarts: input.maxRestarts ?? DEFAULT_MAX_RESTARTS,
    },
    progressDeadlineMs: spec.rollout.progressDeadlineMs,
    bakeMs: spec.rollout.bakeMs,
    drainMs: input.drainMs ?? DEFAULT_DRAIN_MS,
    autoRollback: spec.rollout.autoRollback && kind !== 'auto-rollback',
    errorBudget: input.errorBudget ?? DEFAULT_ERROR_BUDGET,
    hosts: [...input.hosts],
  };
}

/**
 * Whether an instance of commit `sha` and release `release` (its label; null on instances made
 * before releases) runs `r`. An instance without a release label runs `r` only when `legacy`
 * allows it: the old side of a rollout may be such an instance, the new side never is.
 */
export function runsRevision(
  r: Revision | null,
  sha: string,
  release: number | null | undefined,
  legacy: boolean,
): boolean {
  if (r === null || r.sha !== sha) return false;
  if (r.release === undefined) return true;
  if (release === null || release === undefined) return legacy;
  return release === r.release;
}

/** The slot name of the rollout's n-th start request; deterministic so starts are idempotent. */
export function slotName(plan: RolloutPlan, n: number): string {
  return `${plan.rolloutId}-${n}`;
}

/** The n of a slot this rollout named, or null when another rollout (or a person) named it. */
export function slotNumber(plan: RolloutPlan, slot: string): number | null {
  const prefix = `${plan.rolloutId}-`;
  if (!slot.startsWith(prefix)) return null;
  const rest = slot.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : null;
}

/**
 * The host for the next instance of a revision, given the hosts its live instances already use:
 * the least loaded, ties to the earlier host, which is round-robin when filled from empty.
 */
export function placeOn(plan: RolloutPlan, used: readonly string[]): string {
  return placer(plan.hosts, used)();
}

/**
 * Places instances one after another exactly as repeated `placeOn` calls would (each placement
 * adds to its host's load), but counts the loads once: a call per placement that recounted them
 * made starting n instances quadratic. Each placement costs the number of hosts.
 */
export function placer(hosts: readonly string[], used: readonly string[]): () => string {
  const load = new Map<string, number>();
  for (const h of used) load.set(h, (load.get(h) ?? 0) + 1);
  return () => {
    let best = hosts[0] ?? '';
    let bestLoad = Infinity;
    for (const host of hosts) {
      const n = load.get(host) ?? 0;
      if (n < bestLoad) [best, bestLoad] = [host, n];
    }
    load.set(best, (load.get(best) ?? 0) + 1);
    return best;
  };
}
