/**
 * Probes of instances the controller cannot reach on 127.0.0.1 (Kubernetes pods): HTTP checks go
 * through the runtime (the API server's pod proxy, so the controller needs no pod network); tcp
 * and exec checks read the engine's readiness verdict, from the readiness probe the runtime set
 * up with the same check.
 */
import type { Instance, InstanceProbes } from '../runtime/runtime.js';
import { httpStatusCheck } from './http-probe.js';
import type { ProbeResult } from './probe-result.js';

export function proxiedHttpProbe(
  probes: InstanceProbes,
  instance: Instance,
  path: string,
  expect: number,
  timeoutMs: number,
): Promise<ProbeResult> {
  const shown = path.startsWith('/') ? path : `/${path}`;
  return httpStatusCheck(
    shown,
    expect,
    timeoutMs,
    async () => (await probes.httpGet(instance, shown, timeoutMs)).status,
  );
}

export function readinessProbe(probes: InstanceProbes, instance: Instance): ProbeResult {
  const verdict = probes.ready(instance);
  if (verdict === undefined) {
    return { ok: false, detail: 'no readiness reported yet', at: Date.now() };
  }
  return { ok: verdict.ready, detail: verdict.detail, at: Date.now() };
}
