/**
 * A load generator in its own process (so it never shares an event loop with the server it
 * measures): autocannon at a fixed offered rate, one request shape (POST with a body by default,
 * or a GET), optionally a fresh delivery id per request. Reads its job as JSON from argv[2];
 * prints a summary as JSON on stdout.
 *
 * autocannon paces a rate per connection per wall-clock second: every connection sends its
 * quota back to back at the start of each second, so the whole rate arrives as one burst. With
 * `spread: k`, k autocannon instances share the rate and the connections, started 1/k s apart,
 * so the same rate arrives in k smaller bursts a second.
 *
 * With `untilStdin`, it runs until a line arrives on stdin (or `seconds` pass, whichever is
 * first), so a caller can hold the load over a window it does not know the length of. With
 * `samples`, the summary also lists every answer as `[doneAtMs, latencyMs, status]` (status 0:
 * a socket error or a timeout), so the caller can cut the run into windows afterwards.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';

interface LoadJob {
  url: string;
  rate: number;
  seconds: number;
  connections: number;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  /** Header that gets a fresh UUID per request, if any. */
  uniqueHeader?: string;
  samples?: boolean;
  untilStdin?: boolean;
  /** autocannon instances sharing the rate, staggered over each second (default 1). */
  spread?: number;
}

/** One answer: when it completed (epoch ms), how long it took (ms), its status (0: no answer). */
export type Sample = [doneAt: number, latencyMs: number, status: number];

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
const spread = Math.max(1, Math.min(job.spread ?? 1, job.rate || 1, job.connections));
const samples: Sample[] = [];
const started = Date.now();
const instances: autocannon.Instance[] = [];
let stopped = false;

/** Splits `n` into `k` integer shares that differ by at most one. */
function share(n: number, k: number, i: number): number {
  return Math.floor(n / k) + (i < n % k ? 1 : 0);
}

function runOne(i: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: share(job.connections, spread, i),
        // 0: no limit (autocannon refuses an overallRate of 0).
        ...(job.rate > 0 ? { overallRate: share(job.rate, spread, i) } : {}),
        duration: Math.max(1, job.seconds - i / spread),
        requests: [
          {
            method: job.method ?? 'POST',
            ...(job.body === undefined ? {} : { body: job.body }),
            headers: job.headers ?? {},
            setupRequest: (req) =>
              job.uniqueHeader
                ? { ...req, headers: { ...req.headers, [job.uniqueHeader]: randomUUID() } }
                : req,
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instances.push(instance);
    if (stopped) instance.stop();
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      samples.push([Date.now(), responseTime, statusCode]);
    });
    instance.on('reqError', () => {
      samples.push([Date.now(), -1, 0]);
    });
  });
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

const runs: Promise<autocannon.Result>[] = [];
for (let i = 0; i < spread; i++) {
  if (i > 0) await sleep(1000 / spread);
  if (stopped) break;
  runs.push(runOne(i));
}
if (job.untilStdin) {
  // The caller starts measuring once the first requests are on their way.
  process.stderr.write('ready\n');
  process.stdin.once('data', () => {
    stopped = true;
    for (const instance of instances) instance.stop();
  });
}
const results = await Promise.all(runs);

const codes: Record<string, number> = {};
for (const result of results) {
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {}))
    codes[code] = (codes[code] ?? 0) + (s.count ?? 0);
}
const sum = (f: (r: autocannon.Result) => number) => results.reduce((a, r) => a + f(r), 0);
// One instance: autocannon's own percentiles, as before. Several: from the answers themselves.
const ok = samples
  .filter(([, , status]) => status >= 200 && status < 300)
  .map(([, latency]) => latency)
  .sort((a, b) => a - b);
const first = results[0];
process.stdout.write(
  JSON.stringify({
    codes,
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    sent: sum((r) => r.requests.sent),
    p50: results.length === 1 && first ? first.latency.p50 : quantile(ok, 0.5),
    p99: results.length === 1 && first ? first.latency.p99 : quantile(ok, 0.99),
    seconds: (Date.now() - started) / 1000,
    startedAt: started,
    ...(job.samples ? { samples } : {}),
  }),
  // stdin may still be open: leave once the summary is written.
  () => process.exit(0),
);
