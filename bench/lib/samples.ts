/** Figures from a load's per-request samples, over the whole run or a window of it. */
import type { LoadResult, Sample } from './run-load.js';

export interface WindowStats {
  /** Answers and errors that completed in the window. */
  requests: number;
  /** Non-2xx answers, socket errors and timeouts. */
  failed: number;
  /** Of the 2xx answers, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Answers (any status) that took a second or more: a SYN retransmit, a retry, a stall. */
  slow: number;
  /** Failure counts by status (`0` = socket error or timeout). */
  failures: Record<string, number>;
}

/** The value at quantile `q` (0..1) of ascending `sorted`, nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Stats of the samples that completed within [from, to] (epoch ms; default: all of them). */
export function windowStats(
  samples: readonly Sample[],
  from = Number.NEGATIVE_INFINITY,
  to = Number.POSITIVE_INFINITY,
): WindowStats {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let requests = 0;
  let slow = 0;
  for (const [at, latency, status] of samples) {
    if (at < from || at > to) continue;
    requests++;
    if (latency >= 1_000) slow++;
    if (status >= 200 && status < 300) latencies.push(latency);
    else failures[String(status)] = (failures[String(status)] ?? 0) + 1;
  }
  latencies.sort((a, b) => a - b);
  return {
    requests,
    failed: requests - latencies.length,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
    slow,
    failures,
  };
}

/** Every sample of a load result, or an error saying the job did not ask for them. */
export function samplesOf(r: LoadResult): Sample[] {
  if (r.samples === undefined) throw new Error('the load ran without samples: true');
  return r.samples;
}

/** The answers that failed or took at least `slowMs`, in completion order. */
export function outliers(samples: readonly Sample[], slowMs: number): Sample[] {
  return samples
    .filter(([, latency, status]) => status < 200 || status >= 300 || latency >= slowMs)
    .sort((a, b) => a[0] - b[0]);
}
