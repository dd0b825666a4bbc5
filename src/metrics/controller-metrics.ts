import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Queues } from '../queue/queues.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { EnvStatus } from '../store/records.js';
import type { Store } from '../store/store.js';
import { Metrics } from './metrics.js';
import { followEvents } from './reader.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/**
 * The controller's metrics: a registry fed from the event stream; queue depths and the
 * environments' status records read at scrape.
 */
export async function startMetrics(deps: {
  redis: Redis;
  store: Store;
  rollouts: RolloutStore;
  queues: Queues;
  log: Logger;
}): Promise<{ metrics: Metrics; stop: () => Promise<void> }> {
  const { queues, store, rollouts } = deps;
  const metrics = new Metrics({
    queueCounts: async () => ({
      sources: await queues.sources.getJobCounts(...QUEUE_STATES),
      builds: await queues.builds.getJobCounts(...QUEUE_STATES),
      rollouts: await queues.rollouts.getJobCounts(...QUEUE_STATES),
    }),
    envStatuses: () => envStatuses(rollouts),
  });
  const stop = await followEvents(
    deps.redis,
    store.bus,
    metrics,
    { build: (id) => store.getBuild(id), rollout: (id) => rollouts.get(id) },
    deps.log,
  );
  return { metrics, stop };
}

/** The status record of every deployed environment that has one (none before its first pass). */
async function envStatuses(rollouts: RolloutStore): Promise<EnvStatus[]> {
  const envs = await rollouts.deployedEnvs();
  const all = await Promise.all(envs.map(({ app, env }) => rollouts.status(app, env)));
  return all.filter((s): s is EnvStatus => s !== undefined);
}
