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

/** The prunes asked for after rollouts in this process, run one after another. */
let queue: Promise<void> = Promise.resolve();

/**
 * Prunes once a rollout's outcome is recorded, holding nothing: the job ends and the environment
 * is free while it runs. Listing an engine's images takes seconds when it holds thousands, and
 * neither the outcome nor the environment's next rollout need wait for that (its image is kept).
 * One prune at a time per process, so many rollouts ending together do not pile onto the
 * engines. Never throws; a failure is logged.
 */
export function pruneImagesAfter(deps: PruneDeps, app: string, rolloutId: string): void {
  queue = queue.then(() =>
    pruneImages(deps, app, rolloutId).catch((e: unknown) =>
      deps.log.warn({ app, rollout: rolloutId, err: String(e) }, 'image pruning failed'),
    ),
  );
}

/**
 * Removes an app's images from every host except the rollback window: the revisions each
 * environment runs and the last `keepImages` that succeeded there, and the revision each
 * environment is to move to next (its build may be done and its rollout starting). Images stay
 * in the registry, so even a pruned revision can be pulled back; pruning is a courtesy and never
 * fails a rollout.
 */
export async function pruneImages(
  deps: PruneDeps,
  app: string,
  /** A rollout already recorded as succeeded that the window does not count (see settle.ts). */
  settled?: string,
): Promise<void> {
  const record = await deps.store.getApp(app);
  const keep = new Set<string>();
  for (const env of Object.keys(record?.environments ?? {})) {
    const state = await deps.rollouts.env(app, env);
    if (state.current) keep.add(state.current.image);
    const next = state.desired ? await deps.store.getRevision(app, state.desired) : undefined;
    if (next?.image) keep.add(next.image.pinned);
    const recent = (await deps.rollouts.list(app, env, 100)).filter(
      (r) => r.outcome === 'succeeded' && r.id !== settled,
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
