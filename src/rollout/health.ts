/**
 * Health, decided here and nowhere else: probe results are folded into consecutive pass and fail
 * counts (healthyThreshold passes → healthy; unhealthyThreshold failures after the start period
 * → unhealthy), and the runtime's word outranks probes (exited, or restarting again and again →
 * unhealthy at once). The tally lives in the persisted state, so each result is counted once
 * however often the prober repeats it.
 */
import type { Probe, RuntimeState } from './observed.js';
import type { HealthRules } from './plan.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** Why an instance is unhealthy. */
export type UnhealthyCause = 'probes' | 'exited' | 'crash-loop';

export interface HealthTally {
  readonly status: HealthStatus;
  /** Set while unhealthy. */
  readonly cause: UnhealthyCause | null;
  readonly detail: string | null;
  readonly passes: number;
  readonly fails: number;
  /** Watermark: results at or before it were already counted. */
  readonly lastProbeAt: number | null;
  /** restartCount when first seen: restarts before this rollout met the instance are not held against it. */
  readonly restartBaseline: number;
  /** The last few results, kept as evidence for the decision they led to. */
  readonly recent: readonly Probe[];
}

/** What the tally needs from the runtime besides probes. */
export interface RuntimeView {
  readonly state: RuntimeState;
  readonly restartCount: number;
  readonly exitCode: number | null;
  /** When the process started; the start period counts from here. */
  readonly startedAt: number;
  readonly probes: readonly Probe[];
  /** Now (ms): a "running" check judges how long the process has kept running. */
  readonly now?: number | undefined;
}

/** A tally for an instance nobody has probed yet. */
export function freshTally(
  restartBaseline: number,
  status: HealthStatus = 'starting',
): HealthTally {
  return {
    status,
    cause: null,
    detail: null,
    passes: 0,
    fails: 0,
    lastProbeAt: null,
    restartBaseline,
    recent: [],
  };
}

/** Folds the probe results not counted yet into the tally, then applies the runtime's verdict. */
export function tallyHealth(prev: HealthTally, view: RuntimeView, rules: HealthRules): HealthTally {
  const fresh = view.probes
    .filter((p) => prev.lastProbeAt === null || p.at > prev.lastProbeAt)
    .sort((a, b) => a.at - b.at);
  let tally = prev;
  for (const probe of fresh) tally = countProbe(tally, probe, view.startedAt, rules);
  // A dead process cannot be healthy, whatever its last probe said; waiting for
  // unhealthyThreshold more failures would only delay the rollback.
  if (view.state === 'exited' || view.state === 'dead')
    return unhealthy(tally, 'exited', `exited with code ${view.exitCode ?? 'unknown'}`);
  const restarts = view.restartCount - prev.restartBaseline;
  if (restarts >= rules.maxRestarts)
    return unhealthy(tally, 'crash-loop', `restarted ${restarts} times`);
  if (rules.check.kind === 'running') return tallyRunning(tally, view, rules);
  return tally;
}

/**
 * A process without a probe (a worker) is healthy once it has kept running for its start period
 * (at least healthyThreshold intervals): long enough that a process dying at start is seen to
 * die, where "running" at the first sighting would pass it.
 */
export function runningWindowMs(rules: HealthRules): number {
  return Math.max(rules.startPeriodMs, rules.intervalMs * rules.healthyThreshold);
}

function tallyRunning(t: HealthTally, view: RuntimeView, rules: HealthRules): HealthTally {
  if (t.status !== 'starting' || view.state !== 'running' || view.now === undefined) return t;
  if (view.now - view.startedAt < runningWindowMs(rules)) return t;
  return { ...t, status: 'healthy', cause: null, detail: null };
}

function countProbe(
  t: HealthTally,
  probe: Probe,
  startedAt: number,
  rules: HealthRules,
): HealthTally {
  const recent = [...t.recent, probe].slice(-evidenceLength(rules));
  const lastProbeAt = probe.at;
  if (probe.ok) {
    const passes = t.passes + 1;
    if (passes < rules.healthyThreshold) return { ...t, passes, fails: 0, recent, lastProbeAt };
    return {
      ...t,
      status: 'healthy',
      cause: null,
      detail: null,
      passes,
      fails: 0,
      recent,
      lastProbeAt,
    };
  }
  // Docker's start period: a booting process may fail probes without counting against it,
  // until it has once been healthy.
  const booting = t.status === 'starting' && probe.at < startedAt + rules.startPeriodMs;
  if (booting) return { ...t, passes: 0, recent, lastProbeAt };
  const fails = t.fails + 1;
  if (fails < rules.unhealthyThreshold) return { ...t, passes: 0, fails, recent, lastProbeAt };
  return { ...unhealthy(t, 'probes', probe.detail), passes: 0, fails, recent, lastProbeAt };
}

function unhealthy(t: HealthTally, cause: UnhealthyCause, detail: string): HealthTally {
  return { ...t, status: 'unhealthy', cause, detail };
}

/** Enough results to show why either threshold was crossed, and never unbounded. */
function evidenceLength(rules: HealthRules): number {
  return Math.min(10, Math.max(3, rules.healthyThreshold, rules.unhealthyThreshold));
}
