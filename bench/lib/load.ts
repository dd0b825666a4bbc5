/**
 * A load generator in its own process (so it never shares an event loop with the server it
 * measures): autocannon at a fixed offered rate, one POST body, a fresh delivery id per request.
 * Reads its job as JSON from argv[2]; prints autocannon's result summary as JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

interface LoadJob {
  url: string;
  rate: number;
  seconds: number;
  connections: number;
  body: string;
  headers: Record<string, string>;
  /** Header that gets a fresh UUID per request, if any. */
  uniqueHeader?: string;
}

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  overallRate: job.rate,
  duration: job.seconds,
  requests: [
    {
      method: 'POST',
      body: job.body,
      headers: job.headers,
      setupRequest: (req) =>
        job.uniqueHeader
          ? { ...req, headers: { ...req.headers, [job.uniqueHeader]: randomUUID() } }
          : req,
    },
  ],
});
const codes: Record<string, number> = {};
for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) codes[code] = s.count ?? 0;
process.stdout.write(
  JSON.stringify({
    codes,
    errors: result.errors,
    timeouts: result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    seconds: job.seconds,
  }),
);
