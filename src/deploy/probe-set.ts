/**
 * The probing both the rollout loop and the reconciler do: every running instance of one
 * environment is probed with the app's health check, and the results are kept in a ring per
 * instance for the core to count. An instance whose published port changed (the engine restarted
 * it) is probed afresh at its new address.
 */
import type { HealthCheck } from '../config/app-spec.js';
import { Prober, type ProbeListener } from '../health/prober.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import { ProbeLog, upstreamOf } from './observe.js';

export interface ProbeSchedule {
  readonly check: HealthCheck;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export class ProbeSet {
  readonly log = new ProbeLog();
  private readonly prober: Prober;
  /** Instance id → the address it is probed at. */
  private readonly addresses = new Map<string, string>();

  /** `onResult` hears every result after it is logged (the reconciler wakes on failures). */
  constructor(runtime: Runtime, onResult?: ProbeListener) {
    this.prober = new Prober(runtime, (id, r) => {
      this.log.add(id, { at: r.at, ok: r.ok, detail: r.detail });
      onResult?.(id, r);
    });
  }

  /** Probes every running, reachable instance; forgets the ones that are gone or stopped. */
  sync(instances: readonly Instance[], schedule: ProbeSchedule): void {
    const live = new Set<string>();
    for (const i of instances) {
      // Published on 127.0.0.1 (Docker), or reachable through the runtime (Kubernetes pods).
      const address = upstreamOf(i);
      if (i.state !== 'running' || address === undefined) continue;
      live.add(i.id);
      if (this.addresses.get(i.id) === address) continue;
      this.addresses.set(i.id, address);
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
