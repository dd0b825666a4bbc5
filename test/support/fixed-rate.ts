/**
 * A light GET load at a fixed rate, in this process: one request every 1/rate s whether or not
 * the previous one has answered (so a stalled edge shows as failures, not as a slower pace).
 * For counting failed requests at tens of requests a second; for load at hundreds, use the
 * autocannon processes of load.ts.
 */
import { request } from 'node:http';

export interface FixedRateResult {
  readonly total: number;
  readonly failed: number;
  /** Each failure: when it ended (epoch ms) and why (HTTP status, error code, timeout). */
  readonly failures: readonly { at: number; why: string }[];
}

export interface FixedRateLoad {
  stop(): Promise<FixedRateResult>;
}

/** One GET on a fresh connection; resolves with the failure reason, or undefined on a 200. */
function get(url: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

/** Starts GETs of `url` at `perSecond`; `stop` waits for those in flight and counts. */
export function startFixedRate(url: string, perSecond: number, timeoutMs = 5_000): FixedRateLoad {
  let total = 0;
  const failures: { at: number; why: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  let sent = 0;
  // Paced from the start time, not from the last tick: timer drift does not lower the rate.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * perSecond) / 1000);
    for (; sent < due; sent++) {
      const p = get(url, timeoutMs).then((why) => {
        total++;
        if (why !== undefined) failures.push({ at: Date.now(), why });
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  }, 5);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      return { total, failed: failures.length, failures };
    },
  };
}

/** Milliseconds from `since` until `url` answers 200 (fresh connections, one at a time). */
export async function answersAfter(
  url: string,
  since: number,
  deadlineMs: number,
  pollMs = 20,
): Promise<number> {
  for (;;) {
    if ((await get(url, 1_000)) === undefined) return Date.now() - since;
    if (Date.now() - since > deadlineMs) {
      throw new Error(`${url} did not answer 200 within ${deadlineMs} ms`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
