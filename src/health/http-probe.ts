/** HTTP health check: GET on the published port at its host's address; the status is the verdict. */
import { httpDetail, networkReason } from './detail.js';
import { dialAddress } from './dial-address.js';
import type { ProbeResult } from './probe-result.js';

export function httpProbe(
  hostPort: number,
  path: string,
  expect: number,
  timeoutMs: number,
  address?: string,
): Promise<ProbeResult> {
  const url = `http://${dialAddress(address, hostPort)}${path.startsWith('/') ? path : `/${path}`}`;
  return httpStatusCheck(path, expect, timeoutMs, async () => {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      // A redirect is an answer in itself; following it could lead anywhere.
      redirect: 'manual',
      headers: { 'user-agent': 'gantry-health/1' },
    });
    // Drain the body so the socket is released, but do not wait on a slow one: the status is in.
    void res.body?.cancel().catch(() => undefined);
    return res.status;
  });
}

/**
 * The result of an HTTP check whose GET of `path` (however it is made) resolves with the status:
 * `expect` passes; a timeout or network error is evidence, shown as `GET <path>: …`.
 */
export async function httpStatusCheck(
  path: string,
  expect: number,
  timeoutMs: number,
  get: () => Promise<number>,
): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    const status = await get();
    return {
      ok: status === expect,
      detail: httpDetail(path, status, expect, elapsed()),
      status,
      at: Date.now(),
    };
  } catch (e) {
    const name = (e as { name?: unknown } | null)?.name;
    const detail =
      name === 'TimeoutError' || name === 'AbortError'
        ? `GET ${path}: no answer within ${timeoutMs} ms`
        : `GET ${path}: ${networkReason(e)} after ${elapsed()} ms`;
    return { ok: false, detail, at: Date.now() };
  }
}
