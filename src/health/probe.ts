/**
 * One health probe of one instance. Probes report what they saw; deciding healthy or unhealthy
 * (thresholds, start period) belongs to the rollout core, which gets these results as data.
 */
import type { HealthCheck } from '../config/app-spec.js';
import type { Runtime } from '../runtime/runtime.js';
import { execProbe } from './exec-probe.js';
import { proxiedHttpProbe, readinessProbe } from './proxied-probe.js';
import type { ProbeResult, ProbeTarget } from './probe-result.js';
import { httpProbe } from './http-probe.js';
import { tcpProbe } from './tcp-probe.js';

export type { ProbeResult, ProbeTarget } from './probe-result.js';

/** Runs `check` once against `target`; never throws, a failure is a result with `ok: false`. */
export async function probe(
  check: HealthCheck,
  target: ProbeTarget,
  runtime: Runtime,
  timeoutMs: number,
): Promise<ProbeResult> {
  switch (check.kind) {
    case 'http':
      if (target.hostPort === undefined && runtime.probes) {
        return proxiedHttpProbe(
          runtime.probes,
          target.instance,
          check.path,
          check.expect,
          timeoutMs,
        );
      }
      if (target.hostPort === undefined) return unpublished();
      return httpProbe(
        target.hostPort,
        check.path,
        check.expect,
        timeoutMs,
        target.instance.hostAddress,
      );
    case 'tcp':
      if (target.hostPort === undefined && runtime.probes) {
        return readinessProbe(runtime.probes, target.instance);
      }
      if (target.hostPort === undefined) return unpublished();
      return tcpProbe(target.hostPort, timeoutMs, target.instance.hostAddress);
    case 'exec':
      if (target.hostPort === undefined && runtime.probes) {
        return readinessProbe(runtime.probes, target.instance);
      }
      return execProbe(runtime, target.instance, check.command, timeoutMs);
    default:
      return assertNever(check);
  }
}

function unpublished(): ProbeResult {
  return { ok: false, detail: 'no published port (instance not running?)', at: Date.now() };
}

function assertNever(x: never): never {
  throw new Error(`unhandled health check ${JSON.stringify(x)}`);
}
