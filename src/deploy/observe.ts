import type { Observed, ObservedInstance, Probe } from '../rollout/index.js';
import type { Instance } from '../runtime/runtime.js';
import { dialAddress } from '../health/dial-address.js';

const PROBES_KEPT = 20;

/**
 * How the edge names an instance: `<host address>:<port>` when it is published on its Docker
 * host (127.0.0.1 for an engine on the controller's machine), else the runtime's own address for
 * it (Kubernetes: `<pod>:<port>`).
 */
export function upstreamOf(instance: Instance): string | undefined {
  return instance.hostPort === undefined
    ? instance.upstream
    : dialAddress(instance.hostAddress, instance.hostPort);
}

/** The recent probe results of each instance, as the prober reports them (a ring per instance). */
export class ProbeLog {
  private readonly byInstance = new Map<string, Probe[]>();

  add(instanceId: string, probe: Probe): void {
    const ring = this.byInstance.get(instanceId) ?? [];
    ring.push(probe);
    if (ring.length > PROBES_KEPT) ring.shift();
    this.byInstance.set(instanceId, ring);
  }

  of(instanceId: string): readonly Probe[] {
    return this.byInstance.get(instanceId) ?? [];
  }

  forget(instanceId: string): void {
    this.byInstance.delete(instanceId);
  }
}

/** What the core gets to see: the runtime's instances, whether the edge routes them, and probes. */
export function observe(
  instances: readonly Instance[],
  routed: ReadonlySet<string>,
  probes: ProbeLog,
  edge: Observed['edge'],
): Observed {
  const seen: ObservedInstance[] = instances
    .filter((i) => i.state !== 'removing')
    .map((i) => {
      const upstream = upstreamOf(i);
      return {
        id: i.id,
        slot: i.slot,
        revision: i.revision,
        release: i.release ?? null,
        process: i.process ?? null,
        host: i.host,
        state: i.state,
        restartCount: i.restartCount,
        exitCode: i.exitCode ?? null,
        startedAt: i.startedAt ?? null,
        routed: upstream !== undefined && routed.has(upstream),
        probes: probes.of(i.id),
      };
    });
  return { instances: seen, edge };
}
