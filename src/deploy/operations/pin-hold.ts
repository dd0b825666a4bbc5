/**
 * A rollback is final until a newer push: automation's deploy of a commit pushed before it is
 * held, wherever that deploy stood when the rollback was asked (building, queued, waiting on a
 * lock). Asked at two points: when a build finishes (nothing is queued) and when a queued deploy
 * is about to start (it closes as `superseded`, with the same why).
 */
import type { RolloutJob } from '../../queue/jobs.js';
import type { RolloutStore } from '../../store/rollouts.js';
import type { Store } from '../../store/store.js';
import { pinBlocks } from './choices.js';

export interface PinHoldDeps {
  store: Store;
  rollouts: RolloutStore;
}

/**
 * Why the environment's pin (or a rollback asked and not finished yet) holds this deploy, or
 * undefined when it may go. Only automation is held: a person's deploy, promote, retry or unpin
 * moves the environment on, and rollbacks are never held. When held, the environment's timeline
 * (and the event stream) gets an `env` event of kind `skipped` saying why.
 */
export async function heldByPin(
  deps: PinHoldDeps,
  job: Pick<RolloutJob, 'app' | 'env' | 'sha' | 'kind' | 'trigger'>,
  now = Date.now(),
): Promise<string | undefined> {
  if (job.kind !== 'deploy' || job.trigger.kind === 'manual') return undefined;
  const { app, env, sha } = job;
  const [state, asked, revision] = await Promise.all([
    deps.rollouts.env(app, env, now),
    deps.rollouts.rollbackAsked(app, env),
    deps.store.getRevision(app, sha),
  ]);
  // Until the rollback finishes there is no pin yet, but it is already the newest intent.
  const pending = asked && !(await deps.rollouts.get(asked.rolloutId))?.outcome ? asked : null;
  const why = pinBlocks({
    pin: state.pin,
    pendingRollback: pending,
    sha,
    firstSeenAt: revision?.firstSeenAt,
  });
  if (why === undefined) return undefined;
  await deps.rollouts.appendEnvEvents(app, env, [
    { at: now, kind: 'skipped', text: `not deploying ${why}` },
  ]);
  return why;
}
