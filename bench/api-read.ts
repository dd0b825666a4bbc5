/**
 * bench/api-read: history-query latency with 10,000 recorded rollouts, next to a plain Redis read
 * of the same records, measured in the same run on the same machine.
 *
 *   npx tsx bench/api-read.ts [--records 10000] [--requests 2000]
 *
 * Seeds a private Redis (AOF on, as the controller wants it) with rollout records shaped as the
 * runner writes them (plan, finished state with instances and health evidence, commit, PR),
 * through the real RolloutStore so every index is written. Starts the real controller (API only:
 * no workers, no deploy) and asks it, one request after another over a kept-alive connection:
 *   - what PR #N shipped and where:      GET /api/history?app=&pr=
 *   - an environment's last 50 rollouts: GET /api/history?app=&env=&limit=50
 *   - a page deep in the history:        GET /api/history?app=&limit=50&before=<cursor>
 * and next to each, the bare minimum a client of Redis would do for the same records: the same
 * sorted-set range and one MGET through ioredis (no HTTP, no JSON work, no auth).
 * Prints p50/p99 in ms and the ratio. Traffic goes to 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { hashToken } from '../src/api/auth.js';
import { parseControllerConfig } from '../src/config/controller-config.js';
import { startController } from '../src/controller.js';
import { seedHistory } from '../test/support/history-seed.js';
import { startRedis } from '../src/demo/redis-server.js';
import { quantile } from './lib/samples.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '2000' },
  },
});
const RECORDS = Number(values.records);
const REQUESTS = Number(values.requests);
const APP = 'shop';
const ENVS = ['production', 'staging', 'preview'];

interface Figures {
  p50: number;
  p99: number;
}

async function measure(run: () => Promise<void>): Promise<Figures> {
  for (let i = 0; i < Math.min(200, REQUESTS); i++) await run(); // warm up (JIT, connections)
  const ms: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) };
}

async function main() {
  const dir = path.resolve('.gantry', 'bench', `api-read-${Date.now()}`);
  const redisServer = await startRedis({ dir: path.join(dir, 'redis') });
  const token = randomBytes(20).toString('hex');
  const config = parseControllerConfig(
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      `redis: { url: "${redisServer.url}" }`,
      `dataDir: "${path.join(dir, 'data')}"`,
      'deploy: { enabled: false }',
      // Not what is measured here: the limit would only cut the loop short.
      'api: { rateLimit: { max: 100000000 } }',
      // Retention would trim the seeded history to its default 1000 per environment mid-run.
      `history: { keepPerEnvironment: ${RECORDS} }`,
      `tokens: [{ name: bench, role: viewer, hash: "${hashToken(token)}" }]`,
      'repos: [{ name: app, url: "http://127.0.0.1:9/acme/app.git" }]',
    ].join('\n'),
  );
  const controller = await startController(config, {
    log: pino({ level: 'silent' }),
    workers: false,
  });
  const plain = new Redis(redisServer.url);
  try {
    const t0 = performance.now();
    const { records } = await seedHistory(controller.store, controller.rollouts, {
      app: APP,
      envs: ENVS,
      count: RECORDS,
      prEvery: 3,
    });
    const seedMs = performance.now() - t0;
    const keys = controller.store.keys;
    const bytes = records.reduce((n, r) => n + JSON.stringify(r).length, 0);

    const mid = records[Math.floor(RECORDS / 2)]!;
    const pr = records.slice(Math.floor(RECORDS / 2)).find((r) => r.pr)!.pr!.number;
    const deepCursor = `${Date.parse(mid.createdAt)}:${mid.id}`;
    const get = async (query: string) => {
      const res = await fetch(`${controller.url}/api/history?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status !== 200) throw new Error(`${query}: HTTP ${res.status}`);
      await res.arrayBuffer();
    };
    const direct = async (key: string, max: string, count: number) => {
      const ids = await plain.zrevrangebyscore(key, max, '-inf', 'LIMIT', 0, count);
      if (ids.length > 0) await plain.mget(ids.map((id) => keys.rollout(id)));
    };

    // Each query must find records, or the figures would measure an empty answer.
    for (const [what, query] of [
      ['pr', `app=${APP}&pr=${pr}`],
      ['env', `app=${APP}&env=production&limit=50`],
      ['deep', `app=${APP}&limit=50&before=${deepCursor}`],
    ] as const) {
      const res = await fetch(`${controller.url}/api/history?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const n = ((await res.json()) as { rollouts?: unknown[] }).rollouts?.length ?? 0;
      if (n === 0) throw new Error(`${what}: the query found nothing (HTTP ${res.status})`);
      console.log(`${what}: ${n} rollouts per answer`);
    }
    const cases: { name: string; api: () => Promise<void>; redis: () => Promise<void> }[] = [
      {
        name: `what PR #${pr} shipped, where`,
        api: () => get(`app=${APP}&pr=${pr}`),
        redis: () => direct(keys.rolloutsByPr(APP, pr), '+inf', 51),
      },
      {
        name: 'production, last 50',
        api: () => get(`app=${APP}&env=production&limit=50`),
        redis: () => direct(keys.rollouts(APP, 'production'), '+inf', 51),
      },
      {
        name: 'all envs, 50 from the middle',
        api: () => get(`app=${APP}&limit=50&before=${deepCursor}`),
        redis: () => direct(keys.appRollouts(APP), String(Date.parse(mid.createdAt)), 51),
      },
    ];

    console.log(
      `api-read: ${RECORDS} rollout records (${(bytes / RECORDS / 1024).toFixed(1)} KiB each on average, seeded in ${(seedMs / 1000).toFixed(1)} s), ` +
        `${REQUESTS} sequential requests per query after a warm-up, node ${process.version}`,
    );
    console.log(
      'query                          | GET /api/history p50 ms  p99 ms | ZREVRANGEBYSCORE+MGET p50 ms  p99 ms | p50 ratio',
    );
    for (const c of cases) {
      const a = await measure(c.api);
      const r = await measure(c.redis);
      console.log(
        `${c.name.padEnd(30)} | ${a.p50.toFixed(2).padStart(23)} ${a.p99.toFixed(2).padStart(7)} | ` +
          `${r.p50.toFixed(2).padStart(28)} ${r.p99.toFixed(2).padStart(7)} | ${(a.p50 / r.p50).toFixed(1).padStart(8)}×`,
      );
    }
  } finally {
    plain.disconnect();
    await controller.close();
    await redisServer.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
