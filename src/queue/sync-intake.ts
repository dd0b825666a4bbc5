import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SyncJob } from './jobs.js';
import type { Queues } from './queues.js';
import { batchWrites } from './write-batching.js';

/**
 * What must follow a sync job into Redis (a delivery marked accepted, say): sent on `via`, the
 * queue's own connection, right behind the job, and resolving whether it took effect. It should
 * check that the job (`jobKey`, its hash) is there, since it runs whether or not the add did.
 */
export type FollowUp = (via: Redis, jobKey: string) => Promise<boolean>;

/**
 * Queues a sync job and its follow-up in one round trip: both are written before either answer
 * is awaited, in one write shared with whatever else this turn of the event loop sends. Resolves
 * once Redis has both (the job is then durable as far as Redis makes it), with the follow-up's
 * verdict; rejects when the add fails. Same job as `queues.sources.add('sync', job, { jobId })`.
 */
export async function queueSyncWith(
  queues: Queues,
  data: SyncJob,
  jobId: string,
  followUp: FollowUp,
): Promise<boolean> {
  const queue = queues.sources;
  const client = await queue.getBackend().client;
  const job = new Job<SyncJob>(queue, 'sync', data, { ...queue.defaultJobOptions, jobId }, jobId);
  const jobKey = queue.toKey(jobId);
  batchWrites(queues.connection);
  // Both commands are written synchronously, in this order, before anything is awaited.
  const added = job.addJob(client);
  const followed = followUp(queues.connection, jobKey);
  const [, done] = await Promise.all([added, followed]);
  // The add is retried by ioredis once, after the follow-up ran, if Redis had forgotten the
  // script (SCRIPT FLUSH): the job is in now, so the follow-up is worth one more try.
  return done || followUp(queues.connection, jobKey);
}
