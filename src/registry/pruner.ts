/** The controller's registry prune, wired from its config: one function for the timer and the API. */
import type { Logger } from 'pino';
import type { ControllerConfig } from '../config/controller-config.js';
import { parseDuration } from '../config/units.js';
import type { Queues } from '../queue/queues.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import { RegistryApi } from './registry-api.js';
import { pruneRegistry, type PruneReport } from './registry-prune.js';

/** `prune({ dryRun })` over the configured registry and window. */
export function registryPruner(
  config: ControllerConfig,
  deps: { store: Store; rollouts: RolloutStore; queues: Queues; log: Logger },
): (opts: { dryRun: boolean }) => Promise<PruneReport> {
  const { prune } = config.registry;
  const api = new RegistryApi(config.registry);
  const window = {
    keepPerEnvironment: prune.keepPerEnvironment,
    graceMs: parseDuration(prune.grace) ?? 24 * 3_600_000,
  };
  return (opts) =>
    pruneRegistry(
      {
        ...deps,
        api,
        gcConfig: prune.gcConfig,
        buildsActive: () => deps.queues.builds.getActiveCount(),
      },
      window,
      opts,
    );
}
