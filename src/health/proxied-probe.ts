/**
 * Probes of instances the controller cannot reach on 127.0.0.1 (Kubernetes pods): HTTP checks go
 * through the runtime (the API server's pod proxy, so the controller needs no pod network); tcp
 * and exec checks read the engine's readiness verdict, from the readiness probe the runtime set
 * up with the same check.
 */
import { isGantryError } from '../errors.js';
import type { Instance, InstanceProbes } from '../runtime/runtime.js';
import { httpStatusCheck } from './http-probe.js';
import type { ProbeResult } from './probe-result.js';

export async function proxiedHttpProbe(
  probes: InstanceProbes,
  instance: Instance,
  path: string,
  expect: number,
  timeoutMs: number,
): Promise<ProbeResult> {
  const shown = path.startsWith('/') ? path : `/${path}`;
  let unreachable: string | undefined;
  const result = await httpStatusCheck(shown, expect, timeoutMs, async () => {
    try {
      return (await probes.httpGet(instance, shown, timeoutMs)).status;
    } catch (e) {
      // The API server away (pod-proxy.ts): no verdict on the instance.
      if (isGantryError(e, 'GANTRY_ERR_KUBERNETES_UNAVAILABLE')) unreachable = e.message;
      throw e;
    }
  });
  return unreachable === undefined
    ? result
    : { ok: false, detail: `GET ${shown}: ${unreachable}`, at: result.at, noVerdict: true };
}

export function readinessProbe(probes: InstanceProbes, instance: Instance): ProbeResult {
  const verdict = probes.ready(instance);
  if (verdict === undefined) {
    return { ok: false, detail: 'no readiness reported yet', at: Date.now() };
  }
  return { ok: verdict.ready, detail: verdict.detail, at: Date.now() };
}
