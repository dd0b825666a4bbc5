/**
 * A load generator in its own process (so it never shares an event loop with the server it
 * measures): autocannon at a fixed offered rate, one request shape (POST with a body by default,
 * or a GET), optionally a fresh delivery id per request. Reads its job as JSON from argv[2];
 * prints autocannon's result summary as JSON on stdout.
 *
 * With `untilStdin`, it runs until a line arrives on stdin (or `seconds` pass, whichever is
 * first), so a caller can hold the load over a window it does not know the length of. With
 * `samples`, the summary also lists every answer as `[doneAtMs, latencyMs, status]` (status 0:
 * a socket error or a timeout), so the caller can cut the run into windows afterwards.
 */
import { randomUUID } from 'node:crypto';
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
}

/** One answer: when it completed (epoch ms), how long it took (ms), its status (0: no answer). */
export type Sample = [doneAt: number, latencyMs: number, status: number];

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
const samples: Sample[] = [];
const started = Date.now();
const instance = autocannon(
  {
    url: job.url,
    connections: job.connections,
    overallRate: job.rate,
    duration: job.seconds,
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
  (err, result) => {
    if (err) throw err;
    const codes: Record<string, number> = {};
    for (const [code, s] of Object.entries(result.statusCodeStats ?? {}))
      codes[code] = s.count ?? 0;
    process.stdout.write(
      JSON.stringify({
        codes,
        errors: result.errors,
        timeouts: result.timeouts,
        sent: result.requests.sent,
        p50: result.latency.p50,
        p99: result.latency.p99,
        seconds: (Date.now() - started) / 1000,
        startedAt: started,
        ...(job.samples ? { samples } : {}),
      }),
      // stdin may still be open: leave once the summary is written.
      () => process.exit(0),
    );
  },
);
if (job.samples) {
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    samples.push([Date.now(), responseTime, statusCode]);
  });
  instance.on('reqError', () => {
    samples.push([Date.now(), -1, 0]);
  });
}
if (job.untilStdin) {
  // The caller starts measuring once the first requests are on their way.
  instance.once('start', () => process.stderr.write('ready\n'));
  process.stdin.once('data', () => instance.stop());
}
