/**
 * The load of the zero-downtime bench: GETs, which the edge may retry on another instance when
 * one fails (so they measure the edge as much as the rollout), plus a share of POSTs, which it
 * never retries (so every reset or refused connection on the way reaches the client). Each kind
 * runs in its own process at a fixed rate; together they make the offered rate.
 */
import { runLoad, startLoad, type LoadJob, type LoadResult } from './run-load.js';
import { samplesOf, windowStats, type WindowStats } from './samples.js';

export interface MixOptions {
  /** The edge, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Requests per second, GETs and POSTs together. */
  readonly rate: number;
  /** Of which POSTs (0: none). */
  readonly postRate: number;
  readonly getPath: string;
  readonly postPath: string;
  readonly connections: number;
  /**
   * autocannon instances per method, staggered over each second (see load.ts): one instance
   * sends the whole rate as a burst at the top of each second, which overflows busybox httpd's
   * listen queue and turns ~1% of requests into 1 s SYN retransmits, in steady state too.
   */
  readonly spread: number;
}

export interface MixResult {
  readonly get: LoadResult;
  readonly post: LoadResult | undefined;
}

export interface MixStats {
  readonly get: WindowStats;
  readonly post: WindowStats | undefined;
}

function jobs(o: MixOptions, seconds: number): { get: LoadJob; post: LoadJob | undefined } {
  const base = { seconds, samples: true };
  return {
    get: {
      ...base,
      url: `${o.url}${o.getPath}`,
      rate: o.rate - o.postRate,
      connections: o.connections,
      spread: o.spread,
      method: 'GET',
    },
    post:
      o.postRate > 0
        ? {
            ...base,
            url: `${o.url}${o.postPath}`,
            rate: o.postRate,
            // Enough connections that one slow answer does not hold back the rate.
            connections: Math.max(2, Math.ceil(o.connections / 4)),
            spread: Math.max(1, Math.ceil(o.spread / 2)),
            method: 'POST',
            body: 'bench=1',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }
        : undefined,
  };
}

/** Runs both loads for `seconds` and returns their summaries. */
export async function runMix(o: MixOptions, seconds: number): Promise<MixResult> {
  const j = jobs(o, seconds);
  const [get, post] = await Promise.all([runLoad(j.get), j.post ? runLoad(j.post) : undefined]);
  return { get, post };
}

/** Starts both loads; `stop()` ends them and returns their summaries. */
export async function startMix(
  o: MixOptions,
  maxSeconds: number,
): Promise<{ stop(): Promise<MixResult> }> {
  const j = jobs(o, maxSeconds);
  const [g, p] = await Promise.allSettled([
    startLoad(j.get),
    j.post ? startLoad(j.post) : Promise.resolve(undefined),
  ]);
  if (g.status === 'rejected' || p.status === 'rejected') {
    // Do not leave the half that started running.
    if (g.status === 'fulfilled') await g.value.stop().catch(() => undefined);
    if (p.status === 'fulfilled') await p.value?.stop().catch(() => undefined);
    throw g.status === 'rejected' ? g.reason : (p as PromiseRejectedResult).reason;
  }
  const get = g.value;
  const post = p.value;
  return {
    async stop() {
      const [getResult, postResult] = await Promise.all([get.stop(), post?.stop()]);
      return { get: getResult, post: postResult };
    },
  };
}

/** Per-kind stats of the answers completed within [from, to] (default: the whole run). */
export function mixStats(m: MixResult, from?: number, to?: number): MixStats {
  return {
    get: windowStats(samplesOf(m.get), from, to),
    post: m.post ? windowStats(samplesOf(m.post), from, to) : undefined,
  };
}
