import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { runBuild, type BuildDeps, type BuildOutcome } from './build/build-runner.js';
import { heldByLock, LOCK_RECHECK_MS } from './deploy/operations/freeze.js';
import { recordRolloutError } from './deploy/rollout-failure.js';
import { runRollout, type RolloutDeps } from './deploy/rollout-runner.js';
import { errorMessage } from './errors.js';
import { syncBranch, type SyncDeps } from './source/sync.js';
import { Lease } from './queue/app-lock.js';
import type { BuildJob, RolloutJob, SyncJob } from './queue/jobs.js';
import { QUEUE } from './queue/names.js';
import { bullPrefix } from './queue/queues.js';
import { DEFAULT_RETRY, retryDelay, shouldRetry, type RetryPolicy } from './queue/retry.js';
import { FINISHED_BUILD_STATUSES } from './store/records.js';

const LEASE_RETRY_MS = 500;
const DEPLOY_RETRY_MS = 1000;
const ROLLBACK_RETRY_MS = 200;
/**
 * A rollout's BullMQ lock and its environment lease are short, so a rollout whose controller died
 * (kill -9) is picked up by another process within seconds and resumed from its persisted state.
 */
const ROLLOUT_LOCK_MS = 10_000;
const ROLLOUT_LEASE_MS = 10_000;
/**
 * Rollouts of different app environments at once (one per environment, by its lease). A rollout
 * mostly waits (starts, probes, drains): with a few slots, a busy fleet's rollouts queued for
 * minutes behind each other while the controller sat idle.
 */
const ROLLOUT_CONCURRENCY = 16;
/** Syncs are mostly waiting on the network; a push to each of many repos must not queue. */
const SYNC_CONCURRENCY = 8;

export interface WorkerOptions {
  redisUrl: string;
  prefix: string;
  buildConcurrency: number;
  log: Logger;
  /** Called once a build produced (or reused) an image: queues its rollouts. */
  afterBuild?: (job: BuildJob, outcome: BuildOutcome) => Promise<void>;
  /** The backoff between attempts of every queue's jobs (the jobs carry the attempt count). */
  retry?: RetryPolicy | undefined;
}

export interface Workers {
  sources: Worker<SyncJob>;
  builds: Worker<BuildJob>;
  rollouts: Worker<RolloutJob> | undefined;
  close(): Promise<void>;
}

/**
 * Maps an error onto BullMQ's outcomes once (STYLE habit 5): transient errors are rethrown so
 * the job is retried with backoff; anything a retry cannot fix becomes unrecoverable.
 */
async function withDisposition<T>(job: Job, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (shouldRetry(e, job.attemptsMade + 1, job.opts.attempts ?? 1)) throw e;
    throw new UnrecoverableError(errorMessage(e));
  }
}

/** Marks the build failed when its job failed for good and the record still says otherwise. */
async function closeBuildRecord(
  store: BuildDeps['store'],
  job: Job<BuildJob>,
  err: Error,
): Promise<void> {
  if ((await job.getState()) !== 'failed') return; // retried: runBuild said when
  const rec = await store.getBuild(job.data.buildId);
  if (!rec || FINISHED_BUILD_STATUSES.includes(rec.status)) return;
  await store.updateBuild(rec.id, {
    status: 'failed',
    finishedAt: new Date().toISOString(),
    failure: { code: 'GANTRY_ERR_BUILD_FAILED', message: err.message, logTail: [] },
    note: undefined,
    retry: rec.retry && { ...rec.retry, nextAt: undefined },
  });
}

/** Puts the job back to be tried again shortly (BullMQ's manual delay). */
async function retryLater(
  job: Job,
  token: string | undefined,
  delayMs = LEASE_RETRY_MS,
): Promise<never> {
  // Fails when the job's lock is lost too: another process has the job, and it is not ours to move.
  await job.moveToDelayed(Date.now() + delayMs, token).catch(() => undefined);
  throw new DelayedError();
}

/** Starts the consumers of the sources and builds queues in this process. */
export function startWorkers(
  opts: WorkerOptions,
  syncDeps: SyncDeps,
  buildDeps: BuildDeps,
  rolloutDeps?: RolloutDeps,
): Workers {
  const retry = opts.retry ?? DEFAULT_RETRY;
  const common = {
    connection: { url: opts.redisUrl, maxRetriesPerRequest: null },
    prefix: bullPrefix(opts.prefix),
    // Jobs carry BACKOFF_TYPE (src/queue/queues.ts): every worker must answer for it, or BullMQ
    // fails the job instead of retrying it.
    settings: { backoffStrategy: (attemptsMade: number) => retryDelay(retry, attemptsMade) },
  };
  const sources = new Worker<SyncJob>(
    QUEUE.sources,
    (job) => withDisposition(job, () => syncBranch(syncDeps, job.data, job.id ?? '')),
    { ...common, concurrency: SYNC_CONCURRENCY },
  );
  const { store } = buildDeps;
  const builds = new Worker<BuildJob>(
    QUEUE.builds,
    async (job, token) => {
      // One build per app at a time, across every controller process: the next one then starts
      // from the newest head and skips what that head superseded.
      const lease = await Lease.acquire(
        store.redis,
        store.keys.buildLease(job.data.app),
        job.id ?? '',
      );
      if (!lease) {
        await job.moveToDelayed(Date.now() + LEASE_RETRY_MS, token);
        throw new DelayedError();
      }
      let outcome: BuildOutcome;
      try {
        outcome = await withDisposition(job, () =>
          runBuild(buildDeps, job.data, job.attemptsMade + 1, job.opts.attempts ?? 1),
        );
      } finally {
        await lease.release();
      }
      if (outcome.kind !== 'superseded') await opts.afterBuild?.(job.data, outcome);
      return outcome;
    },
    { ...common, concurrency: opts.buildConcurrency },
  );
  const rollouts =
    rolloutDeps &&
    new Worker<RolloutJob>(
      QUEUE.rollouts,
      async (job, token) => {
        // Never two rollouts of one app environment at once, whichever process runs them. The
        // owner names this attempt, not the job: when this process stalls and BullMQ hands the
        // job to another, the two attempts must not both pass for the holder.
        // Deploy freeze: a deploy of a locked environment waits here, holding no lease.
        if (await heldByLock(store, rolloutDeps.rollouts, job.data))
          return retryLater(job, token, LOCK_RECHECK_MS);
        const key = store.keys.rolloutLease(job.data.app, job.data.env);
        const owner = `${job.id ?? ''}@${token ?? randomUUID()}`;
        const lease = await Lease.acquire(store.redis, key, owner, ROLLOUT_LEASE_MS);
        // Rollbacks jump the queue: BullMQ's priority orders what waits, and a rollback waiting
        // on a busy environment also asks again sooner than a deploy does.
        if (!lease)
          return retryLater(
            job,
            token,
            job.data.kind === 'deploy' ? DEPLOY_RETRY_MS : ROLLBACK_RETRY_MS,
          );
        try {
          return await withDisposition(job, () => runRollout(rolloutDeps, job.data, lease));
        } catch (e) {
          if (lease.held()) {
            if (e instanceof UnrecoverableError) {
              await recordRolloutError(rolloutDeps.rollouts, job.data, e, lease).catch(
                (err: unknown) =>
                  opts.log.warn(
                    { rollout: job.data.rolloutId, err: errorMessage(err) },
                    'could not record the rollout error',
                  ),
              );
            }
            throw e;
          }
          // This process stalled past its lease and stopped mid-rollout. The rollout resumes
          // from its persisted state wherever the job runs next (here, if its lock is still ours).
          opts.log.warn(
            { job: job.id, rollout: job.data.rolloutId, err: errorMessage(e) },
            'rollout lease lost: stopped acting',
          );
          return retryLater(job, token);
        } finally {
          await lease.release();
        }
      },
      {
        ...common,
        concurrency: ROLLOUT_CONCURRENCY,
        lockDuration: ROLLOUT_LOCK_MS,
        stalledInterval: ROLLOUT_LOCK_MS / 2,
        maxStalledCount: 10,
      },
    );
  // A safety net under runBuild's own record keeping: a build job that failed for good outside it
  // (the lease, Redis) must not leave its record saying "queued" or "running".
  builds.on('failed', (job, err) => {
    if (!job) return;
    void closeBuildRecord(store, job, err).catch((e: unknown) =>
      opts.log.warn(
        { build: job.data.buildId, err: errorMessage(e) },
        'could not close the build record',
      ),
    );
  });
  for (const w of [sources, builds, rollouts].filter((w) => w !== undefined) as Worker[]) {
    w.on('failed', (job, err) =>
      opts.log.warn({ queue: w.name, job: job?.id, err: err.message }, 'job failed'),
    );
    w.on('error', (err) => opts.log.error({ queue: w.name, err: err.message }, 'worker error'));
  }
  return {
    sources,
    builds,
    rollouts,
    async close() {
      await Promise.all([sources.close(), builds.close(), rollouts?.close()]);
    },
  };
}
