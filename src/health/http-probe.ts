/** HTTP health check: GET on the published port at its host's address; the status is the verdict. */
import { request } from 'node:http';
import { httpDetail, networkReason } from './detail.js';
import { LOOPBACK } from './dial-address.js';
import type { ProbeResult } from './probe-result.js';

const HEADERS = { 'user-agent': 'gantry-health/1' };

/**
 * node:http with a connection of its own (apps often close it after each answer anyway), not
 * fetch: a probe runs every interval for every instance, and fetch cost twice the CPU per probe.
 */
export function httpProbe(
  hostPort: number,
  path: string,
  expect: number,
  timeoutMs: number,
  address: string = LOOPBACK,
): Promise<ProbeResult> {
  const target = path.startsWith('/') ? path : `/${path}`;
  return httpStatusCheck(
    path,
    expect,
    timeoutMs,
    () =>
      new Promise<number>((resolve, reject) => {
        // A redirect is an answer in itself (node:http never follows one).
        const req = request(
          {
            host: address,
            port: hostPort,
            path: target,
            headers: HEADERS,
            agent: false,
            signal: AbortSignal.timeout(timeoutMs),
          },
          (res) => {
            // The status is in: do not wait on a slow body.
            res.destroy();
            resolve(res.statusCode ?? 0);
          },
        );
        req.once('error', reject);
        req.end();
      }),
  );
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
