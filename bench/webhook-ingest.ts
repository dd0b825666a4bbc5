/**
 * bench/webhook-ingest: signed GitHub push webhooks at increasing offered rates against the real
 * controller (verify → parse → dedupe → BullMQ enqueue in a real Redis with AOF), next to a bare
 * fastify route that only parses the same JSON, measured in the same run on the same machine.
 *
 *   npx tsx bench/webhook-ingest.ts [--seconds 5] [--rates 250,500,1000,2000,4000] [--warmup 2]
 *     [--spread 1]
 *
 * Prints accepted/s, p50/p99 latency and CPU per answer (the server's process; Gantry's Redis too)
 * per rate for both, and the ratio. The load runs in its own
 * process (bench/lib/load.ts). Each server first takes `--warmup` seconds of load at the first
 * rate, not counted, so the first row measures running code rather than the JIT warming up.
 * `--spread k` sends each second's requests in k bursts instead of one (see load.ts): with 1,
 * p99 is mostly how long a server takes to drain one second's burst from 32 connections.
 * Bounded in time; traffic goes to 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import type { Redis } from 'ioredis';
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
    warmup: { type: 'string', default: '2' },
    spread: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const spread = Number(values.spread);
const rates = values.rates.split(',').map(Number);

interface Row {
  rate: number;
  okPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU this process (the server under load; the other one idles) spent per answer, µs. */
  cpuUs: number;
  /** CPU Redis spent per answer, µs. */
  redisUs: number;
}

/** CPU seconds Redis has used so far, by its own account. */
async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1]);
  return field('used_cpu_sys') + field('used_cpu_user');
}

async function load(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  rate: number,
  redis: Redis,
  secs = seconds,
): Promise<Row> {
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpu(redis);
  const r = await runLoad({
    url,
    rate,
    seconds: secs,
    spread,
    body: body.toString(),
    headers: { ...headers, 'content-type': 'application/json' },
    // A fresh delivery id per request, as a forge sends: redeliveries take a faster path.
    uniqueHeader: 'x-github-delivery',
  });
  const cpu = process.cpuUsage(cpu0);
  const redisUs = ((await redisCpu(redis)) - redis0) * 1e6;
  const answered = Object.values(r.codes).reduce((a, b) => a + b, 0);
  const ok = r.codes['202'] ?? 0;
  return {
    rate,
    okPerSec: ok / secs,
    p50: r.p50,
    p99: r.p99,
    errors: r.errors + r.timeouts + (answered - ok),
    cpuUs: (cpu.user + cpu.system) / ok,
    redisUs: redisUs / ok,
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
    `webhook-ingest: ${seconds}s per rate after ${warmup}s of warm-up, 32 connections in ${spread} burst(s) a second, load from a separate process, body ${body.length} bytes, node ${process.version}`,
  );
  console.log(
    'offered/s | gantry accepted/s  p50 ms  p99 ms  errors  cpu µs  redis µs | bare fastify ok/s  p50 ms  p99 ms  cpu µs | accepted ratio',
  );
  try {
    const gantryUrl = `${controller.url}/webhooks/github`;
    if (warmup > 0) {
      await load(gantryUrl, body, headers, rates[0] ?? 1000, controller.redis, warmup);
      await load(`${peerUrl}/hook`, body, headers, rates[0] ?? 1000, controller.redis, warmup);
    }
    for (const rate of rates) {
      const g = await load(gantryUrl, body, headers, rate, controller.redis);
      const p = await load(`${peerUrl}/hook`, body, headers, rate, controller.redis);
      console.log(
        `${String(rate).padStart(9)} | ${g.okPerSec.toFixed(0).padStart(17)} ${g.p50.toFixed(1).padStart(7)} ${g.p99.toFixed(1).padStart(7)} ${String(g.errors).padStart(7)} ${g.cpuUs.toFixed(0).padStart(7)} ${g.redisUs.toFixed(0).padStart(9)} | ` +
          `${p.okPerSec.toFixed(0).padStart(17)} ${p.p50.toFixed(1).padStart(7)} ${p.p99.toFixed(1).padStart(7)} ${p.cpuUs.toFixed(0).padStart(7)} | ${(g.okPerSec / p.okPerSec).toFixed(2)}`,
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
