/**
 * bench/webhook-ingest: signed GitHub push webhooks at increasing offered rates against the real
 * controller (verify → parse → dedupe → BullMQ enqueue in a real Redis with AOF), next to a bare
 * fastify route that only parses the same JSON, measured in the same run on the same machine.
 *
 *   npx tsx bench/webhook-ingest.ts [--seconds 5] [--rates 250,500,1000,2000,4000]
 *
 * Prints accepted/s and p50/p99 latency per rate for both, and the ratio. The load runs in its own
 * process (bench/lib/load.ts). Bounded in time; traffic goes to 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { pino } from 'pino';
import { parseControllerConfig } from '../src/config/controller-config.js';
import { startController } from '../src/controller.js';
import { stopEdge } from '../src/edge/supervisor/ensure-edge.js';
import { pushPayload } from '../src/demo/forge.js';
import { startRedis } from '../src/demo/redis-server.js';
import { signWebhook } from '../src/source/webhooks/index.js';
import { runLoad } from './lib/run-load.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rates: { type: 'string', default: '250,500,1000,2000,4000' },
  },
});
const seconds = Number(values.seconds);
const rates = values.rates.split(',').map(Number);

interface Row {
  rate: number;
  okPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  rate: number,
): Promise<Row> {
  const r = await runLoad({
    url,
    rate,
    seconds,
    body: body.toString(),
    headers: { ...headers, 'content-type': 'application/json' },
    // A fresh delivery id per request, as a forge sends: redeliveries take a faster path.
    uniqueHeader: 'x-github-delivery',
  });
  const answered = Object.values(r.codes).reduce((a, b) => a + b, 0);
  const ok = r.codes['202'] ?? 0;
  return {
    rate,
    okPerSec: ok / seconds,
    p50: r.p50,
    p99: r.p99,
    errors: r.errors + r.timeouts + (answered - ok),
  };
}

async function main() {
  const dir = path.resolve('.gantry', 'bench', `webhook-${Date.now()}`);
  const redis = await startRedis({ dir: path.join(dir, 'redis') });
  const secret = randomBytes(20).toString('hex');
  const repoUrl = 'http://127.0.0.1:9/acme/app.git';
  const config = parseControllerConfig(
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      `redis: { url: "${redis.url}" }`,
      `dataDir: "${path.join(dir, 'data')}"`,
      `repos: [{ name: app, url: "${repoUrl}", branches: [main], webhookSecret: "${secret}" }]`,
    ].join('\n'),
  );
  // Workers off: this measures ingest (what a forge waits for), not the builds it queues.
  const controller = await startController(config, {
    log: pino({ level: 'silent' }),
    workers: false,
  });

  const peer = Fastify();
  peer.post('/hook', async (req, reply) =>
    reply.status(202).send({ ok: typeof req.body === 'object' }),
  );
  const peerUrl = await peer.listen({ host: '127.0.0.1', port: 0 });

  const body = Buffer.from(
    JSON.stringify(
      pushPayload('github', {
        repoUrl,
        fullName: 'acme/app',
        branch: 'main',
        before: '1'.repeat(40),
        after: '2'.repeat(40),
        message: 'bench',
      }),
    ),
  );
  const headers = Object.fromEntries(
    Object.entries(signWebhook('github', body, secret)).filter(
      (e): e is [string, string] => typeof e[1] === 'string',
    ),
  );

  console.log(
    `webhook-ingest: ${seconds}s per rate, 32 connections, load from a separate process, body ${body.length} bytes, node ${process.version}`,
  );
  console.log(
    'offered/s | gantry accepted/s  p50 ms  p99 ms  errors | bare fastify ok/s  p50 ms  p99 ms | accepted ratio',
  );
  try {
    for (const rate of rates) {
      const g = await load(`${controller.url}/webhooks/github`, body, headers, rate);
      const p = await load(`${peerUrl}/hook`, body, headers, rate);
      console.log(
        `${String(rate).padStart(9)} | ${g.okPerSec.toFixed(0).padStart(17)} ${g.p50.toFixed(1).padStart(7)} ${g.p99.toFixed(1).padStart(7)} ${String(g.errors).padStart(7)} | ` +
          `${p.okPerSec.toFixed(0).padStart(17)} ${p.p50.toFixed(1).padStart(7)} ${p.p99.toFixed(1).padStart(7)} | ${(g.okPerSec / p.okPerSec).toFixed(2)}`,
      );
    }
    const queued = await controller.queues.sources.getJobCounts(
      'waiting',
      'delayed',
      'prioritized',
    );
    console.log(
      `jobs durably queued in Redis: ${Object.values(queued).reduce((a, b) => a + b, 0)}`,
    );
  } finally {
    await peer.close();
    await controller.close();
    // The controller's managed edge outlives it; the benchmark's must not.
    await stopEdge(path.join(dir, 'data', 'edge'));
    await redis.stop();
  }
}

await main();
