/**
 * The webhook's enqueue path against a real Redis: the sync job and the delivery's bookkeeping
 * leave together, the delivery is marked only when its job is in Redis, and a Redis that forgot
 * BullMQ's scripts still ends up with both.
 */
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../src/demo/redis-server.js';
import type { SyncJob } from '../../src/queue/jobs.js';
import { createQueues, type Queues } from '../../src/queue/queues.js';
import { queueSyncWith } from '../../src/queue/sync-intake.js';
import { connectRedis } from '../../src/redis.js';
import type { DeliveryRecord } from '../../src/store/records.js';
import { Store } from '../../src/store/store.js';
import { testEnv, uniqueName } from '../support/env.js';

const job = (deliveryId: string): SyncJob => ({
  repo: 'app',
  branch: 'main',
  hintSha: '2'.repeat(40),
  trigger: { kind: 'webhook', provider: 'github', deliveryId },
});

const record = (deliveryId: string): DeliveryRecord => ({
  provider: 'github',
  deliveryId,
  at: new Date().toISOString(),
  outcome: 'accepted',
  detail: 'sync of app@main queued',
  repo: 'app',
  branch: 'main',
});

describe('queueSyncWith and Store.acceptDelivery', () => {
  // A Redis of its own: one test makes it forget every script.
  let server: RedisServer;
  let redis: Redis;
  let store: Store;
  let queues: Queues;

  beforeAll(async () => {
    server = await startRedis({ dir: path.join(testEnv().runDir, uniqueName('redis')) });
    redis = await connectRedis(server.url);
    const prefix = uniqueName('intake');
    store = new Store(redis, prefix);
    queues = await createQueues(redis, prefix, 1);
  });
  afterAll(async () => {
    await queues?.close();
    redis?.disconnect();
    await server?.stop();
  });

  const accept = (id: string, jobId: string) =>
    queueSyncWith(queues, job(id), jobId, (via, jobKey) =>
      store.acceptDelivery(record(id), { repo: 'app', branch: 'main', jobId, jobKey }, via),
    );

  it('queues the job, then marks the delivery seen, points the branch at the job and logs it', async () => {
    expect(await accept('d-1', 'sync.app.bWFpbg.d1')).toBe(true);
    const queued = await queues.sources.getJob('sync.app.bWFpbg.d1');
    expect(queued?.data).toEqual(job('d-1'));
    expect(queued?.opts.attempts).toBe(1); // the queue's default job options apply
    expect(await store.deliverySeen('github', 'd-1')).toBe(true);
    expect(await store.latestSync('app', 'main')).toBe('sync.app.bWFpbg.d1');
    expect((await store.listDeliveries(1))[0]).toMatchObject({ deliveryId: 'd-1' });
  });

  it('marks nothing when the job is not in Redis', async () => {
    const jobKey = queues.sources.toKey('sync.app.bWFpbg.never');
    const rec = record('d-never');
    const ids = { repo: 'app', branch: 'main', jobId: 'sync.app.bWFpbg.never', jobKey };
    expect(await store.acceptDelivery(rec, ids, queues.connection)).toBe(false);
    expect(await store.deliverySeen('github', 'd-never')).toBe(false);
    expect(await store.latestSync('app', 'main')).not.toBe('sync.app.bWFpbg.never');
  });

  it('a redelivery of the same job id marks it again without queueing a second job', async () => {
    expect(await accept('d-2', 'sync.app.bWFpbg.d2')).toBe(true);
    expect(await accept('d-2', 'sync.app.bWFpbg.d2')).toBe(true);
    const counts = await queues.sources.getJobCounts('waiting');
    expect(counts.waiting).toBe(2); // d-1 and d-2
  });

  it('still queues and marks when Redis forgot the scripts (SCRIPT FLUSH)', async () => {
    await redis.script('FLUSH');
    expect(await accept('d-3', 'sync.app.bWFpbg.d3')).toBe(true);
    expect(await queues.sources.getJob('sync.app.bWFpbg.d3')).toBeDefined();
    expect(await store.deliverySeen('github', 'd-3')).toBe(true);
  });
});
