/**
 * How a rollout ends: the environment's current revision, the failed-revision mark and the pin
 * are settled, then the record is closed with its outcome and reason; image pruning follows on
 * its own (prune-images.ts).
 */
import { processPlans, type Action, type RolloutPlan } from '../rollout/index.js';
import type { RolloutRecord } from '../store/records.js';
import { settlePin } from './operations/pin.js';
import { pruneImagesAfter } from './prune-images.js';
import type { Fence, RolloutDeps } from './rollout-deps.js';
import { runnerLine } from './runner-events.js';

/** Writes the record, only while `fence` (when given) is held. */
export async function persist(
  deps: RolloutDeps,
  rec: RolloutRecord,
  fence: Fence | undefined,
): Promise<void> {
  if (!(await deps.rollouts.put(rec, fence))) fence?.lose();
}

/** Closes the record with its outcome and the reason in a line. */
export async function finishRecord(
  deps: RolloutDeps,
  rec: RolloutRecord,
  outcome: NonNullable<RolloutRecord['outcome']>,
  reason: string,
  fence: Fence | undefined,
): Promise<RolloutRecord> {
  const done = { ...rec, outcome, reason, finishedAt: new Date().toISOString() };
  await persist(deps, done, fence);
  // The core's own `finished` event says how it ended; this one records the outcome's reason.
  await deps.rollouts.appendEvents(rec, [
    runnerLine({ kind: 'outcome', at: Date.now(), outcome, reason }),
  ]);
  return done;
}

/** Applies the core's `finish` action: what serves now, what failed, the pin; then closes. */
export async function settle(
  deps: RolloutDeps,
  rec: RolloutRecord,
  plan: RolloutPlan,
  action: Extract<Action, { kind: 'finish' }>,
  fence: Fence | undefined,
): Promise<RolloutRecord> {
  const { app, env } = rec;
  if (action.outcome === 'succeeded') {
    await deps.rollouts.updateEnv(app, env, {
      current: { ...rec.to, rolloutId: rec.id, since: new Date().toISOString() },
    });
    await restoreConfigAfterRollback(deps, rec);
  } else if (action.outcome === 'failed' && plan.restart === undefined) {
    // A revision that failed is not retried automatically for the same commit. (A failed restart
    // says nothing against the revision that keeps running.)
    await deps.rollouts.markFailed(app, env, rec.to.sha);
  }
  const reason =
    action.failure?.detail ??
    (action.outcome === 'succeeded'
      ? `${formation(plan)} × ${rec.to.sha.slice(0, 12)} serving`
      : action.outcome);
  // After a rollback the environment stays on the restored revision (a pin); a deploy ends it.
  // A restart moves nothing: there is no revision to pin away from.
  if (plan.restart === undefined) await settlePin(deps, rec, action);
  deps.log.info({ rollout: rec.id, app, env, outcome: action.outcome }, 'rollout finished');
  const done = await finishRecord(deps, rec, action.outcome, reason, fence);
  // Housekeeping after the outcome, holding nothing: the job ends and frees the environment
  // while it runs (pruning can take seconds on a busy engine). The window is the one before this
  // rollout was recorded as succeeded; the image it rolled out is kept as the current one.
  if (action.outcome === 'succeeded') pruneImagesAfter(deps, app, rec.id);
  return done;
}

/** "3" for one process type, "3 web + 1 worker" for several. */
function formation(plan: RolloutPlan): string {
  const processes = processPlans(plan);
  if (processes.length === 1) return String(processes[0]?.replicas ?? plan.replicas);
  return processes.map((p) => `${p.replicas} ${p.name}`).join(' + ');
}

/**
 * A rollback restores code and config together, in what runs and in what is recorded: the
 * environment's config becomes the restored release's again (Heroku's rollback), so the next
 * config change or deploy starts from it rather than bringing back what was rolled back.
 */
async function restoreConfigAfterRollback(deps: RolloutDeps, rec: RolloutRecord): Promise<void> {
  if (rec.kind !== 'rollback' || rec.to.release === undefined) return;
  const release = await deps.releases.get(rec.app, rec.env, rec.to.release);
  if (release?.change.kind !== 'rollback') return;
  await deps.config.restore(
    rec.app,
    rec.env,
    release.config,
    `${release.by} (rollback to v${release.change.to})`,
  );
}
