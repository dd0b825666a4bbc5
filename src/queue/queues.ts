import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BuildJob, RolloutJob, SyncJob } from './jobs.js';
import { QUEUE } from './names.js';
import { BACKOFF_TYPE, DEFAULT_RETRY, type RetryPolicy } from './retry.js';

export interface Queues {
  sources: Queue<SyncJob>;
  builds: Queue<BuildJob>;
  rollouts: Queue<RolloutJob>;
  /** The producers' connection: a command sent on it right after an add runs after that add. */
  connection: Redis;
  close(): Promise<void>;
}

/** BullMQ keys live under the controller's prefix too, in a `q` namespace of their own. */
export function bullPrefix(prefix: string): string {
  return `${prefix}:q`;
}

/**
 * Retry with capped exponential backoff (src/queue/retry.ts; the workers compute the delays);
 * only transient errors reach a retry (see src/workers.ts). A number is the attempts alone.
 */
export function defaultJobOptions(retry: number | RetryPolicy): JobsOptions {
  const policy = typeof retry === 'number' ? { ...DEFAULT_RETRY, attempts: retry } : retry;
  return {
    attempts: policy.attempts,
    backoff: { type: BACKOFF_TYPE, delay: policy.baseDelayMs },
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 1000 },
  };
}

/**
 * Producer-side queues on a copy of the controller's connection (same options: connected, no
 * offline queue): when Redis is away they fail fast, so a webhook answers 503 at once and the
 * forge keeps the delivery. A copy, because BullMQ defines its ~50 scripts on the connection it
 * is given, and ioredis then copies every one of them onto each MULTI and pipeline made from it:
 * on the shared connection that was most of the CPU a webhook's MULTI cost.
 */
export async function createQueues(
  shared: Redis,
  prefix: string,
  retry: number | RetryPolicy,
): Promise<Queues> {
  const connection = shared.duplicate({ enableAutoPipelining: false });
  connection.on('error', () => undefined); // reconnects on its own; failures surface on calls
  if (connection.status === 'wait') await connection.connect();
  const common = {
    connection,
    prefix: bullPrefix(prefix),
    defaultJobOptions: defaultJobOptions(retry),
    skipWaitingForReady: true,
  };
  const sources = new Queue<SyncJob>(QUEUE.sources, common);
  const builds = new Queue<BuildJob>(QUEUE.builds, common);
  const rollouts = new Queue<RolloutJob>(QUEUE.rollouts, common);
  // Errors surface on the calls that fail; an 'error' event without a listener would crash.
  for (const q of [sources, builds, rollouts] as Queue[]) q.on('error', () => undefined);
  await Promise.all([sources, builds, rollouts].map((q) => q.waitUntilReady()));
  return {
    sources,
    builds,
    rollouts,
    connection,
    async close() {
      await Promise.all([sources.close(), builds.close(), rollouts.close()]);
      connection.disconnect();
    },
  };
}
