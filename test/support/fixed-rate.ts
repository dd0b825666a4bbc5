/**
 * A light GET load at a fixed rate, in this process: one request every 1/rate s whether or not
 * the previous one has answered (so a stalled edge shows as failures, not as a slower pace).
 * For counting failed requests at tens of requests a second; for load at hundreds, use the
 * autocannon processes of load.ts.
 */
import type { LookupFunction } from 'node:net';
import { request } from 'node:http';
import { request as httpsRequest, type Agent } from 'node:https';

export interface FixedRateResult {
  readonly total: number;
  readonly failed: number;
  /** Each failure: when it ended (epoch ms) and why (HTTP status, error code, timeout). */
  readonly failures: readonly { at: number; why: string }[];
}

export interface FixedRateLoad {
  stop(): Promise<FixedRateResult>;
}

/** For `https://` URLs, and host names no resolver knows (`shop.localhost` in a test). */
export interface FixedRateOptions {
  /** PEM roots to trust instead of the system's (e.g. the edge's `tls internal` root). */
  readonly ca?: string;
  /** Connect here whatever the URL's host; the URL's host still goes into Host and SNI. */
  readonly resolveTo?: string;
  /** Send through this agent (keep-alive: a reload that closes idle connections shows up). */
  readonly agent?: Agent;
}

/** A `lookup` that answers every name with `address`. */
export function lookupAs(address: string): LookupFunction {
  return (_host, opts, cb) => {
    const family = address.includes(':') ? 6 : 4;
    if (opts.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  };
}

/** One GET on a fresh connection; resolves with the failure reason, or undefined on a 200. */
function get(
  url: string,
  timeoutMs: number,
  opts: FixedRateOptions = {},
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const send = url.startsWith('https:') ? httpsRequest : request;
    const options = {
      agent: opts.agent ?? false,
      timeout: timeoutMs,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.resolveTo === undefined ? {} : { lookup: lookupAs(opts.resolveTo) }),
    };
    const req = send(url, options, (res) => {
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
export function startFixedRate(
  url: string,
  perSecond: number,
  timeoutMs = 5_000,
  opts: FixedRateOptions = {},
): FixedRateLoad {
  let total = 0;
  const failures: { at: number; why: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  let sent = 0;
  // Paced from the start time, not from the last tick: timer drift does not lower the rate.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * perSecond) / 1000);
    for (; sent < due; sent++) {
      const p = get(url, timeoutMs, opts).then((why) => {
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
