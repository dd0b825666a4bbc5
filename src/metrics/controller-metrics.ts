import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Queues } from '../queue/queues.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import { Metrics } from './metrics.js';
import { followEvents } from './reader.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/** The controller's metrics: a registry fed from the event stream, queue depths read at scrape. */
export async function startMetrics(deps: {
  redis: Redis;
  store: Store;
  rollouts: RolloutStore;
  queues: Queues;
  log: Logger;
}): Promise<{ metrics: Metrics; stop: () => Promise<void> }> {
  const { queues, store, rollouts } = deps;
  const metrics = new Metrics(async () => ({
    sources: await queues.sources.getJobCounts(...QUEUE_STATES),
    builds: await queues.builds.getJobCounts(...QUEUE_STATES),
    rollouts: await queues.rollouts.getJobCounts(...QUEUE_STATES),
  }));
  const stop = await followEvents(
    deps.redis,
    store.bus,
    metrics,
    { build: (id) => store.getBuild(id), rollout: (id) => rollouts.get(id) },
    deps.log,
  );
  return { metrics, stop };
}
