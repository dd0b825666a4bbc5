/**
 * The plan of one rollout: everything the state machine needs to know that does not change while
 * it runs, built once from the app spec and the rollout's context. Plain JSON, persisted with it.
 */
import type { AppSpec } from '../config/app-spec.js';
import { WEB, processName, processesOf, type ProcessCheck } from '../config/processes.js';

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
  /**
   * The release whose instances this one's are, when it differs from that one only in scale: its
   * instances are labelled (and recognised) by that release, so a scale change adds or removes
   * instances and never replaces them. Absent: the release's instances are its own.
   */
  readonly instancesOf?: number | undefined;
}

/** The release an instance of `r` is labelled with: `instancesOf`, else its own. */
export function instanceRelease(r: Revision): number | undefined {
  return r.instancesOf ?? r.release;
}

/** Why the rollout exists; `auto-rollback` never rolls back itself (it would ping-pong). */
export type RolloutKind = 'deploy' | 'rollback' | 'auto-rollback';

export interface HealthRules {
  /** For the prober; the core only counts results. "running": healthy once running a while. */
  readonly check: ProcessCheck;
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

/** One process type of the release: how many, whether the edge routes it, how it is judged. */
export interface ProcessPlan {
  readonly name: string;
  readonly replicas: number;
  /** Only the routed process is routed and drained at the edge; bake and the error budget watch it. */
  readonly routed: boolean;
  readonly health: HealthRules;
  /** Replaces the image's CMD; absent: the image's own. */
  readonly command?: readonly string[] | undefined;
}

export interface RolloutPlan {
  readonly rolloutId: string;
  readonly app: string;
  readonly env: string;
  readonly kind: RolloutKind;
  /** What runs now; null for a first deploy. */
  readonly from: Revision | null;
  readonly to: Revision;
  /** The routed process's replicas (or the first process's); `processes` has each one's. */
  readonly replicas: number;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  /** The routed process's health rules (or the first process's). */
  readonly health: HealthRules;
  /**
   * Every process type, each rolled under the same rules; absent on plans made before process
   * types (persisted state outlives controller versions): one routed `web` of `replicas`.
   */
  readonly processes?: readonly ProcessPlan[] | undefined;
  /**
   * A rolling restart: instances of these process types that this rollout did not start count as
   * the old side, though they run `to` already, and are replaced through the health gates.
   */
  readonly restart?: readonly string[] | undefined;
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
  /** Replicas per process type that override the spec's (a release's `gantry scale`). */
  readonly scale?: Readonly<Record<string, number>> | undefined;
  /** A rolling restart of these process types (empty: all of them). */
  readonly restart?: readonly string[] | undefined;
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
  const maxRestarts = input.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  const processes = processesOf(spec).map((p): ProcessPlan => {
    const scaled = input.scale !== undefined && Object.hasOwn(input.scale, p.name);
    return {
      name: p.name,
      replicas: scaled ? (input.scale?.[p.name] ?? p.replicas) : p.replicas,
      routed: p.port !== undefined,
      health: { ...p.health, maxRestarts },
      ...(p.command === undefined ? {} : { command: [...p.command] }),
    };
  });
  const main = processes.find((p) => p.routed) ?? processes[0];
  if (main === undefined) throw new RangeError('a rollout needs at least one process type');
  const restart = input.restart;
  return {
    rolloutId: input.rolloutId,
    app: spec.app,
    env: input.env,
    kind,
    from: input.from ?? null,
    to: input.to,
    replicas: main.replicas,
    maxSurge,
    maxUnavailable,
    health: main.health,
    processes,
    ...(restart === undefined
      ? {}
      : { restart: restart.length === 0 ? processes.map((p) => p.name) : [...restart] }),
    progressDeadlineMs: spec.rollout.progressDeadlineMs,
    bakeMs: spec.rollout.bakeMs,
    drainMs: input.drainMs ?? DEFAULT_DRAIN_MS,
    autoRollback: spec.rollout.autoRollback && kind !== 'auto-rollback',
    errorBudget: input.errorBudget ?? DEFAULT_ERROR_BUDGET,
    hosts: [...input.hosts],
  };
}

/** The process types of a plan; a plan from before process types has one routed `web`. */
export function processPlans(plan: RolloutPlan): readonly ProcessPlan[] {
  return (
    plan.processes ?? [{ name: WEB, replicas: plan.replicas, routed: true, health: plan.health }]
  );
}

/** The plan of process `name`; a process the plan does not know (removed from the spec) wants none. */
export function processPlan(plan: RolloutPlan, name: string | null | undefined): ProcessPlan {
  const n = processName(name);
  return (
    processPlans(plan).find((p) => p.name === n) ?? {
      name: n,
      replicas: 0,
      routed: false,
      health: plan.health,
    }
  );
}

/**
 * Whether an instance of commit `sha` and release `release` (its label; null on instances made
 * before releases) runs `r` (labelled with `instanceRelease(r)`). An instance without a release label runs `r` only when `legacy`
 * allows it: the old side of a rollout may be such an instance, the new side never is.
 */
export function runsRevision(
  r: Revision | null,
  sha: string,
  release: number | null | undefined,
  legacy: boolean,
): boolean {
  if (r === null || r.sha !== sha) return false;
  const own = instanceRelease(r);
  if (own === undefined) return true;
  if (release === null || release === undefined) return legacy;
  return release === own;
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
