/**
 * A container's probe schedule: runs one probe every period after the initial delay and turns
 * results into transitions with the kubelet's thresholds (successThreshold, failureThreshold).
 */
import type Docker from 'dockerode';
import { runProbe } from './probes.js';
import type { Probe } from './types.js';

export type ProbeKind = 'Readiness' | 'Liveness';

export interface ProbeHooks {
  hostPort(port: number | string): number | undefined;
  /** The address the ports are on (a pod IP); default 127.0.0.1. */
  host?: string;
  /** Whether results still matter (the container is the pod's current, running one). */
  live(): boolean;
  /** A failed probe run, for the Unhealthy event. */
  failed(kind: ProbeKind, message: string): void;
  /** Readiness reached its success or failure threshold. */
  ready(ok: boolean): void;
  /** Liveness reached its failure threshold: the container must be restarted. */
  dead(): void;
}

export class ProbeLoop {
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly container: Docker.Container,
    private readonly hooks: ProbeHooks,
    /** Multiplies the delays and periods of the pod spec. */
    private readonly scale: number,
  ) {}

  /** Starts probing with this probe. */
  add(kind: ProbeKind, probe: Probe): void {
    const period = Math.max(50, (probe.periodSeconds ?? 10) * 1000 * this.scale);
    const timeout = Math.max(250, (probe.timeoutSeconds ?? 1) * 1000 * this.scale);
    let successes = 0;
    let failures = 0;
    const tick = async (): Promise<void> => {
      if (this.stopped || !this.hooks.live()) return;
      const r = await runProbe(
        probe,
        {
          hostPort: (p) => this.hooks.hostPort(p),
          container: this.container,
          ...(this.hooks.host === undefined ? {} : { host: this.hooks.host }),
        },
        timeout,
      );
      if (this.stopped || !this.hooks.live()) return;
      if (r.ok) {
        successes += 1;
        failures = 0;
        if (kind === 'Readiness' && successes >= (probe.successThreshold ?? 1))
          this.hooks.ready(true);
      } else {
        failures += 1;
        successes = 0;
        this.hooks.failed(kind, r.message);
        if (failures >= (probe.failureThreshold ?? 3)) {
          if (kind === 'Readiness') this.hooks.ready(false);
          else return this.hooks.dead();
        }
      }
      this.schedule(tick, period);
    };
    this.schedule(tick, (probe.initialDelaySeconds ?? 0) * 1000 * this.scale);
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    if (!this.stopped) this.timers.push(setTimeout(() => void fn(), ms));
  }

  /** Stops every probe of this container. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}
