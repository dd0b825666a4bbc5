import type { Logger } from 'pino';
import type { Runtime } from '../runtime/runtime.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';

/** What pruning needs of the rollout runner's dependencies. */
export interface PruneDeps {
  store: Store;
  rollouts: RolloutStore;
  runtime: Runtime;
  log: Logger;
  /** Succeeded revisions per environment whose images stay on every host. */
  keepImages: number;
}

/**
 * Removes an app's images from every host except the rollback window: the revisions each
 * environment runs and the last `keepImages` that succeeded there. Images stay in the registry,
 * so even a pruned revision can be pulled back; pruning is a courtesy and never fails a rollout.
 */
export async function pruneImages(deps: PruneDeps, app: string): Promise<void> {
  const record = await deps.store.getApp(app);
  const keep = new Set<string>();
  for (const env of Object.keys(record?.environments ?? {})) {
    const state = await deps.rollouts.env(app, env);
    if (state.current) keep.add(state.current.image);
    const recent = (await deps.rollouts.list(app, env, 100)).filter(
      (r) => r.outcome === 'succeeded',
    );
    for (const r of recent.slice(0, deps.keepImages)) keep.add(r.to.image);
  }
  for (const host of deps.runtime.hosts()) {
    try {
      const removed = await deps.runtime.removeImages(host, [...keep], app);
      if (removed.length > 0)
        deps.log.info({ app, host, removed }, 'pruned images outside the rollback window');
    } catch (e) {
      deps.log.warn({ app, host, err: String(e) }, 'image pruning failed');
    }
  }
}
