/**
 * Deploy freeze, as the rollouts worker sees it: a deploy of a locked environment waits (without
 * holding the environment's lease) until the lock is lifted or expires; rollbacks pass.
 */
import type { RolloutJob } from '../../queue/jobs.js';
import type { RolloutRecord } from '../../store/records.js';
import type { RolloutStore } from '../../store/rollouts.js';
import type { Store } from '../../store/store.js';

/** How long a held deploy waits before it looks at the lock again. */
export const LOCK_RECHECK_MS = 1000;
const NOTICE_TTL_SECONDS = 7 * 24 * 3600;

/**
 * True when this rollout must wait for the environment's lock. The first time, it records the
 * rollout as pending (a record without a plan, which the runner replaces when it starts) and
 * says why once in its events ('waiting-lock'): reporters turn that into a pending commit
 * status, the UI and history show the waiting rollout. A rollout already under way (resumed
 * after a crash) is never held: stopping halfway is worse.
 */
export async function heldByLock(
  store: Store,
  rollouts: RolloutStore,
  job: Pick<RolloutJob, 'rolloutId' | 'app' | 'env' | 'kind' | 'sha' | 'trigger'>,
): Promise<boolean> {
  if (job.kind !== 'deploy') return false;
  const state = await rollouts.env(job.app, job.env);
  const { lock } = state;
  if (!lock) return false;
  if ((await rollouts.get(job.rolloutId))?.plan) return false;
  const first = await store.redis.set(
    store.keys.lockNoticed(job.rolloutId),
    '1',
    'EX',
    NOTICE_TTL_SECONDS,
    'NX',
  );
  if (first === 'OK') {
    const revision = await store.getRevision(job.app, job.sha);
    const pending: RolloutRecord = {
      id: job.rolloutId,
      app: job.app,
      env: job.env,
      kind: job.kind,
      trigger: job.trigger,
      from: state.current ? { sha: state.current.sha, image: state.current.image } : null,
      to: { sha: job.sha, image: revision?.image?.pinned ?? '' },
      createdAt: new Date().toISOString(),
      ...(revision ? { commit: revision.commit } : {}),
    };
    await rollouts.put(pending);
    const until = lock.until ? ` (until ${lock.until})` : '';
    await rollouts.appendEvents(pending, [
      {
        at: Date.now(),
        kind: 'waiting-lock',
        text: `waiting: ${job.env} is locked by ${lock.by}: ${lock.reason}${until}`,
      },
    ]);
  }
  return true;
}
