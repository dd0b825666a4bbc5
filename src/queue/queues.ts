import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BuildJob, RolloutJob, SyncJob } from './jobs.js';
import { QUEUE } from './names.js';

export interface Queues {
  sources: Queue<SyncJob>;
  builds: Queue<BuildJob>;
  rollouts: Queue<RolloutJob>;
  close(): Promise<void>;
}

/** BullMQ keys live under the controller's prefix too, in a `q` namespace of their own. */
export function bullPrefix(prefix: string): string {
  return `${prefix}:q`;
}

/** Retry with exponential backoff; only transient errors reach a retry (see src/workers.ts). */
export function defaultJobOptions(attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 1000 },
  };
}

/**
 * Producer-side queues on the controller's own connection (connected, no offline queue): when
 * Redis is away they fail fast, so a webhook answers 503 at once and the forge keeps the delivery.
 */
export async function createQueues(
  connection: Redis,
  prefix: string,
  attempts: number,
): Promise<Queues> {
  const common = {
    connection,
    prefix: bullPrefix(prefix),
    defaultJobOptions: defaultJobOptions(attempts),
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
    async close() {
      await Promise.all([sources.close(), builds.close(), rollouts.close()]);
    },
  };
}
