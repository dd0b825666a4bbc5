/** HTTP health check: GET on the published loopback port, the status is the verdict. */
import { httpDetail, networkReason } from './detail.js';
import type { ProbeResult } from './probe-result.js';

export async function httpProbe(
  hostPort: number,
  path: string,
  expect: number,
  timeoutMs: number,
): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const url = `http://127.0.0.1:${hostPort}${path.startsWith('/') ? path : `/${path}`}`;
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      // A redirect is an answer in itself; following it could leave the loopback interface.
      redirect: 'manual',
      headers: { 'user-agent': 'gantry-health/1' },
    });
    // Drain the body so the socket is released, but do not wait on a slow one: the status is in.
    void res.body?.cancel().catch(() => undefined);
    const ms = elapsed();
    return {
      ok: res.status === expect,
      detail: httpDetail(path, res.status, expect, ms),
      status: res.status,
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
