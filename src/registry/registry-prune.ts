/**
 * Pruning the registry outside the rollback window, as an ordered list of small steps per app:
 * what the environments can still need (records) → what the registry holds (tags → digests) →
 * the plan (prune-plan.ts) → delete manifests → forget their image records → garbage collection.
 * Safe to repeat and to run from two controllers: deleting what is gone is a no-op.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import {
  keptDigests,
  planPrune,
  isGantryTag,
  type EnvImages,
  type PruneWindow,
} from './prune-plan.js';
import { collectGarbage } from './registry-gc.js';
import type { RegistryApi } from './registry-api.js';

/** How many of an environment's rollouts are read for the window (newest first). */
const ROLLOUTS_READ = 500;

export interface RegistryPruneDeps {
  readonly store: Store;
  readonly rollouts: RolloutStore;
  readonly api: RegistryApi;
  readonly log: Logger;
  /** `docker-registry`'s config file: garbage collection runs after deletes when set. */
  readonly gcConfig?: string | undefined;
  /** Builds running now; garbage collection waits while one may be pushing (it could lose blobs). */
  readonly buildsActive?: (() => Promise<number>) | undefined;
}

export interface AppPruneReport {
  readonly app: string;
  readonly deleted: readonly { readonly digest: string; readonly tags: readonly string[] }[];
  readonly kept: number;
  readonly error?: string | undefined;
}

export interface PruneReport {
  readonly dryRun: boolean;
  readonly apps: readonly AppPruneReport[];
  /** `ran: N blobs deleted`, `skipped: why`, or `failed: why`. */
  readonly gc: string;
}

/** Prunes every app's repository; one app's failure is reported and does not stop the others. */
export async function pruneRegistry(
  deps: RegistryPruneDeps,
  window: PruneWindow,
  opts: { now?: number; dryRun?: boolean } = {},
): Promise<PruneReport> {
  const now = opts.now ?? Date.now();
  const dryRun = opts.dryRun ?? false;
  const apps: AppPruneReport[] = [];
  for (const app of await deps.store.listApps()) {
    try {
      apps.push(await pruneApp(deps, app.name, Object.keys(app.environments), window, now, dryRun));
    } catch (e) {
      deps.log.warn({ app: app.name, err: errorMessage(e) }, 'registry pruning failed');
      apps.push({ app: app.name, deleted: [], kept: 0, error: errorMessage(e) });
    }
  }
  const deleted = apps.reduce((n, a) => n + a.deleted.length, 0);
  return { dryRun, apps, gc: await gcAfter(deps, deleted, dryRun) };
}

async function pruneApp(
  deps: RegistryPruneDeps,
  app: string,
  envs: readonly string[],
  window: PruneWindow,
  now: number,
  dryRun: boolean,
): Promise<AppPruneReport> {
  // 1. What the environments can still need; read before the registry, so a rollout that starts
  //    meanwhile is either seen here or younger than the grace period.
  const kept = keptDigests(
    await Promise.all(envs.map((e) => envImages(deps, app, e))),
    window.keepPerEnvironment,
  );
  // 2. What the registry holds, with when Gantry built each commit's image.
  const builtAt = new Map<string, { sha: string; at: number }>();
  for (const rev of await deps.store.listRevisions(app, 100_000)) {
    builtAt.set(rev.sha.slice(0, 12), {
      sha: rev.sha,
      at: Date.parse(rev.builtAt ?? rev.firstSeenAt),
    });
  }
  const tags = [];
  for (const tag of (await deps.api.tags(app)).filter(isGantryTag)) {
    const digest = await deps.api.digest(app, tag);
    if (digest !== undefined) tags.push({ tag, digest, builtAt: builtAt.get(tag)?.at });
  }
  // 3. The plan, then 4. the deletes and 5. the image records of what is gone: a later deploy of
  //    such a commit builds it again instead of asking every host for an image nobody has.
  const plan = planPrune(tags, kept, now, window.graceMs);
  if (!dryRun) {
    for (const d of plan.delete) {
      await deps.api.deleteManifest(app, d.digest);
      for (const tag of d.tags) {
        const sha = builtAt.get(tag)?.sha;
        if (sha !== undefined) await deps.store.forgetRevisionImage(app, sha, d.digest);
      }
    }
    if (plan.delete.length > 0) {
      deps.log.info(
        { app, deleted: plan.delete.map((d) => d.tags.join(',')) },
        'pruned registry images outside the rollback window',
      );
    }
  }
  return { app, deleted: plan.delete, kept: plan.keep.length };
}

async function envImages(deps: RegistryPruneDeps, app: string, env: string): Promise<EnvImages> {
  const [state, records] = await Promise.all([
    deps.rollouts.env(app, env),
    deps.rollouts.list(app, env, ROLLOUTS_READ),
  ]);
  const pin = state.pin?.sha;
  return {
    current: state.current?.image,
    pinned: pin === undefined ? [] : records.filter((r) => r.to.sha === pin).map((r) => r.to.image),
    rollouts: records.map((r) => ({ to: r.to.image, from: r.from?.image, outcome: r.outcome })),
  };
}

async function gcAfter(deps: RegistryPruneDeps, deleted: number, dryRun: boolean): Promise<string> {
  if (dryRun) return 'skipped: dry run';
  if (deps.gcConfig === undefined) {
    return 'skipped: registry.prune.gcConfig is not set (the registry collects its own garbage)';
  }
  if (deleted === 0) return 'skipped: nothing was deleted';
  // docker-registry's GC is not safe against a push in progress: it may remove the blobs of a
  // manifest not yet written. Gantry's own builds are the pushes it knows of.
  if (((await deps.buildsActive?.()) ?? 0) > 0) return 'skipped: a build is running (next time)';
  try {
    return `ran: ${await collectGarbage(deps.gcConfig)} blobs deleted`;
  } catch (e) {
    deps.log.warn({ err: errorMessage(e) }, 'registry garbage collection failed');
    return `failed: ${errorMessage(e)}`;
  }
}
