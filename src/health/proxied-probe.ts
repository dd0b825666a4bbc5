/**
 * Probes of instances the controller cannot reach on 127.0.0.1 (Kubernetes pods): HTTP checks go
 * through the runtime (the API server's pod proxy, so the controller needs no pod network); tcp
 * and exec checks read the engine's readiness verdict, from the readiness probe the runtime set
 * up with the same check.
 */
import type { Instance, InstanceProbes } from '../runtime/runtime.js';
import { httpDetail, networkReason } from './detail.js';
import type { ProbeResult } from './probe-result.js';

export async function proxiedHttpProbe(
  probes: InstanceProbes,
  instance: Instance,
  path: string,
  expect: number,
  timeoutMs: number,
): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const shown = path.startsWith('/') ? path : `/${path}`;
  try {
    const { status } = await probes.httpGet(instance, shown, timeoutMs);
    return {
      ok: status === expect,
      detail: httpDetail(shown, status, expect, elapsed()),
      status,
      at: Date.now(),
    };
  } catch (e) {
    const name = (e as { name?: unknown } | null)?.name;
    const detail =
      name === 'TimeoutError' || name === 'AbortError'
        ? `GET ${shown}: no answer within ${timeoutMs} ms`
        : `GET ${shown}: ${networkReason(e)} after ${elapsed()} ms`;
    return { ok: false, detail, at: Date.now() };
  }
}

export function readinessProbe(probes: InstanceProbes, instance: Instance): ProbeResult {
  const verdict = probes.ready(instance);
  if (verdict === undefined) {
    return { ok: false, detail: 'no readiness reported yet', at: Date.now() };
  }
  return { ok: verdict.ready, detail: verdict.detail, at: Date.now() };
}
