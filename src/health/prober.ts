/**
 * Probes instances on an interval and hands every result to a callback. It keeps no verdict: the
 * rollout core counts successes and failures against its thresholds. One probe per instance is
 * in flight at a time; the next starts `intervalMs` after the previous one finished, so a slow
 * app is never hit by a pile-up of probes. Until the first pass, within the start period, a
 * failed HTTP or TCP probe of a published port is tried again after BOOT_RETRY_MS instead: an
 * instance probed the moment it started is often not listening yet, and waiting a whole interval
 * for the next try would add up to an interval to every instance's start. Those failures do not
 * count (start period). Exec probes and probes through an API server cost too much to repeat so.
 */
import type { HealthCheck } from '../config/app-spec.js';
import type { Runtime } from '../runtime/runtime.js';
import { probe, type ProbeResult, type ProbeTarget } from './probe.js';

export interface ProbeSchedule {
  readonly check: HealthCheck;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Failures this soon after the process started do not count; absent: 0 (no boot retries). */
  readonly startPeriodMs?: number | undefined;
}

/** How soon a booting instance's failed probe is tried again (within its start period). */
export const BOOT_RETRY_MS = 100;

export type ProbeListener = (instanceId: string, result: ProbeResult) => void;

/** The probe function, injectable so the scheduling is tested without sockets. */
export type ProbeFn = typeof probe;

interface Watch {
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

export class Prober {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly runtime: Runtime,
    private readonly onResult: ProbeListener,
    private readonly probeFn: ProbeFn = probe,
  ) {}

  /** Starts probing `target.instance` now and then every interval; watching it again replaces the schedule. */
  watch(target: ProbeTarget, schedule: ProbeSchedule): void {
    const id = target.instance.id;
    this.unwatch(id);
    const watch: Watch = { timer: undefined, stopped: false };
    this.watches.set(id, watch);
    const cheap = schedule.check.kind !== 'exec' && target.hostPort !== undefined;
    const bootUntil = cheap ? (target.instance.startedAt ?? 0) + (schedule.startPeriodMs ?? 0) : 0;
    let passed = false;
    const tick = async (): Promise<void> => {
      const result = await this.probeFn(
        schedule.check,
        target,
        this.runtime,
        schedule.timeoutMs,
      ).catch((e: unknown): ProbeResult => ({
        ok: false,
        detail: `probe crashed: ${String(e)}`,
        at: Date.now(),
      }));
      // An unwatch during the probe means nobody wants this result any more.
      if (watch.stopped) return;
      // No verdict (the runtime could not be asked): counted neither way; the next tick tries again.
      if (result.noVerdict !== true) this.onResult(id, result);
      passed ||= result.ok;
      const booting = !passed && Date.now() + BOOT_RETRY_MS < bootUntil;
      const next = booting ? Math.min(BOOT_RETRY_MS, schedule.intervalMs) : schedule.intervalMs;
      if (!watch.stopped) watch.timer = setTimeout(() => void tick(), next);
    };
    void tick();
  }

  unwatch(instanceId: string): void {
    const watch = this.watches.get(instanceId);
    if (watch === undefined) return;
    watch.stopped = true;
    clearTimeout(watch.timer);
    this.watches.delete(instanceId);
  }

  /** The instance ids being probed. */
  watching(): string[] {
    return [...this.watches.keys()];
  }

  stop(): void {
    for (const id of [...this.watches.keys()]) this.unwatch(id);
  }
}
