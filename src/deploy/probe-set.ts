/**
 * The probing both the rollout loop and the reconciler do: every running instance of one
 * environment is probed with the app's health check, and the results are kept in a ring per
 * instance for the core to count. An instance whose process was started again (the engine restarted
 * it, maybe on a new published port) is probed afresh at its current address, and the results
 * about its previous process are dropped: while the engine was down its old address refused every
 * probe, and those failures say nothing about the process that runs now.
 */
import { processName } from '../config/processes.js';
import { Prober, type ProbeListener, type ProbeSchedule } from '../health/prober.js';
import type { HealthRules, ProcessPlan } from '../rollout/index.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import { noRedaction, type Redact } from '../release/redact-secrets.js';
import { ProbeLog, upstreamOf } from './observe.js';

/** How an instance is probed, by its process type; undefined: not probed ("running" health). */
export type ScheduleOf = (instance: Instance) => ProbeSchedule | undefined;

/**
 * The probe schedule of each process type of a plan; a process judged by "running" has none, and
 * so has a process type the plan does not know (it is on its way out).
 */
export function schedulesOf(
  processes: readonly Pick<ProcessPlan, 'name' | 'health'>[],
): ScheduleOf {
  const byName = new Map(processes.map((p) => [p.name, scheduleFor(p.health)]));
  return (i) => byName.get(processName(i.process));
}

function scheduleFor(rules: HealthRules): ProbeSchedule | undefined {
  const { check, intervalMs, timeoutMs, startPeriodMs } = rules;
  return check.kind === 'running' ? undefined : { check, intervalMs, timeoutMs, startPeriodMs };
}

export class ProbeSet {
  readonly log = new ProbeLog();
  private readonly prober: Prober;
  /** Instance id → the address and process start it is probed for (`10.0.0.2:port@startedAt`). */
  private readonly addresses = new Map<string, string>();

  /** Secret values never reach a probe's recorded detail (an exec check may print them). */
  private redact: Redact = noRedaction;

  /** `onResult` hears every result after it is logged (the reconciler wakes on failures). */
  constructor(runtime: Runtime, onResult?: ProbeListener) {
    this.prober = new Prober(runtime, (id, r) => {
      const detail = this.redact(r.detail);
      this.log.add(id, { at: r.at, ok: r.ok, detail });
      onResult?.(id, { ...r, detail });
    });
  }

  /** Redacts the given secret values from every result from now on. */
  redacting(redact: Redact): this {
    this.redact = redact;
    return this;
  }

  /**
   * Probes every running, reachable instance whose process has a check; forgets the ones that
   * are gone or stopped. An exec check needs no address (it runs inside the instance).
   */
  sync(instances: readonly Instance[], schedules: ProbeSchedule | ScheduleOf): void {
    // One schedule for every instance, or one per process type.
    const scheduleOf: ScheduleOf = typeof schedules === 'function' ? schedules : () => schedules;
    const live = new Set<string>();
    for (const i of instances) {
      const schedule = scheduleOf(i);
      if (schedule === undefined || i.state !== 'running') continue;
      // Published on its host's address (Docker), or reachable through the runtime (Kubernetes pods).
      const address = upstreamOf(i) ?? (schedule.check.kind === 'exec' ? 'exec' : undefined);
      if (address === undefined) continue;
      live.add(i.id);
      const key = `${address}@${i.startedAt ?? ''}`;
      const before = this.addresses.get(i.id);
      if (before === key) continue;
      // Started again: what was probed before belongs to the process that is gone.
      if (before !== undefined) this.log.forget(i.id);
      this.addresses.set(i.id, key);
      this.prober.watch({ hostPort: i.hostPort, instance: i }, schedule);
    }
    for (const id of this.prober.watching()) {
      if (!live.has(id)) this.forget(id);
    }
  }

  forget(id: string): void {
    this.prober.unwatch(id);
    this.addresses.delete(id);
    this.log.forget(id);
  }

  stop(): void {
    this.prober.stop();
    this.addresses.clear();
  }
}
