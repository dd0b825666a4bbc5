import { errorMessage } from '../errors.js';
import type { RolloutJob } from '../queue/jobs.js';
import type { RolloutRecord } from '../store/records.js';
import type { LeaseRef, RolloutStore } from '../store/rollouts.js';
import { runnerLine } from './runner-events.js';

/**
 * Ends a rollout whose job failed for good (an error the loop could not handle: the engine gone,
 * a listener that cannot be opened…) with the error as its reason. Without this its record would
 * say "in progress" forever, and whoever follows it would wait forever. The revision is not
 * marked failed: the error was not its fault, so a later push or retry may deploy it.
 */
export async function recordRolloutError(
  rollouts: RolloutStore,
  job: RolloutJob,
  err: unknown,
  lease?: LeaseRef,
): Promise<void> {
  const rec = await rollouts.get(job.rolloutId);
  if (rec?.outcome) return;
  const now = new Date().toISOString();
  const base: RolloutRecord = rec ?? {
    id: job.rolloutId,
    app: job.app,
    env: job.env,
    kind: job.kind,
    trigger: job.trigger,
    from: null,
    to: { sha: job.sha, image: '' },
    createdAt: now,
  };
  const reason = `stopped by an error: ${errorMessage(err)}`;
  if (!(await rollouts.put({ ...base, outcome: 'failed', reason, finishedAt: now }, lease))) return;
  await rollouts.appendEvents(base, [
    runnerLine({ kind: 'outcome', at: Date.now(), outcome: 'failed', reason }),
  ]);
}
