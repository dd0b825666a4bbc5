/**
 * The environment's pin, kept by the rollout runner when a rollout ends: set after a rollback
 * (asked for, or automatic after a failed deploy), cleared when another revision deploys.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { commitsBetween } from '../../history/changes.js';
import type { RepoRegistry } from '../../source/repos.js';
import type { RolloutRecord } from '../../store/records.js';
import type { RolloutStore } from '../../store/rollouts.js';
import type { Store } from '../../store/store.js';
import { pinAfterFinish, type PinInput } from './choices.js';

export interface PinDeps {
  store: Store;
  rollouts: RolloutStore;
  repos: RepoRegistry;
  log: Logger;
}

/** How a rollout ended, as the core's `finish` action says it. */
export interface FinishFacts {
  outcome: PinInput['outcome'];
  restored: boolean;
  failure?: { detail: string } | null | undefined;
}

/**
 * The commits a rollback from `from` to `to` takes out of production (`from` included). Falls back
 * to `from` alone when git cannot say (the remote is away): the pin then still excludes the
 * revision that was serving.
 */
export async function removedByRollback(
  deps: PinDeps,
  app: string,
  from: string,
  to: string,
): Promise<string[]> {
  try {
    const [appRec, rev] = await Promise.all([
      deps.store.getApp(app),
      deps.store.getRevision(app, from),
    ]);
    if (!appRec || !rev) return [from];
    const cache = deps.repos.get(appRec.repo).cache;
    const commits = await commitsBetween(cache, to, from, { branch: rev.branch });
    return [...new Set([from, ...commits.map((c) => c.sha)])];
  } catch (e) {
    deps.log.warn(
      { app, from, to, err: errorMessage(e) },
      'could not list the commits a rollback removes',
    );
    return [from];
  }
}

/**
 * When a rollback was asked: noted as it was queued (it may have waited for a running rollout),
 * else — a rollback queued by an older controller — when its record was made.
 */
async function askedAt(deps: PinDeps, rec: RolloutRecord): Promise<string> {
  const asked = await deps.rollouts.rollbackAsked(rec.app, rec.env);
  return asked?.rolloutId === rec.id ? asked.at : rec.createdAt;
}

/**
 * Called by the runner as a rollout finishes. Never fails the rollout: a pin that cannot be
 * written is logged (the rollout's own record still says what happened).
 */
export async function settlePin(deps: PinDeps, rec: RolloutRecord, finish: FinishFacts) {
  const { app, env } = rec;
  try {
    const state = await deps.rollouts.env(app, env);
    const isRollback = rec.kind === 'rollback' || rec.kind === 'auto-rollback';
    const removed =
      finish.outcome === 'succeeded' && isRollback && rec.from
        ? await removedByRollback(deps, app, rec.from.sha, rec.to.sha)
        : [];
    const change = pinAfterFinish({
      rollout: rec,
      outcome: finish.outcome,
      restored: finish.restored,
      failureDetail: finish.failure?.detail,
      pin: state.pin,
      removed,
      now: new Date().toISOString(),
      askedAt: rec.kind === 'rollback' ? await askedAt(deps, rec) : undefined,
    });
    const at = Date.now();
    if (change.kind === 'set') {
      await deps.rollouts.setPin(app, env, change.pin);
      await deps.rollouts.bus.publish({
        type: 'env',
        app,
        env,
        kind: 'pinned',
        text: `pinned to ${change.pin.sha.slice(0, 12)}: ${change.pin.reason}`,
        at,
      });
    } else if (change.kind === 'clear') {
      await deps.rollouts.clearPin(app, env);
      await deps.rollouts.bus.publish({
        type: 'env',
        app,
        env,
        kind: 'unpinned',
        text: `unpinned: ${rec.to.sha.slice(0, 12)} deployed`,
        at,
      });
    }
  } catch (e) {
    deps.log.warn({ app, env, rollout: rec.id, err: errorMessage(e) }, 'could not update the pin');
  }
}
