import type { Logger } from 'pino';
import type { RolloutJob } from '../queue/jobs.js';
import { PRIORITY, rolloutJobId } from '../queue/names.js';
import type { Queues } from '../queue/queues.js';
import type { Trigger } from '../store/records.js';
import { actorOf } from './operations/choices.js';
import { heldByPin } from './operations/pin-hold.js';
import { takePendingDeploys } from './operations/pending.js';
import type { RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';

export interface EnqueueDeps {
  store: Store;
  rollouts: RolloutStore;
  queues: Queues;
  log: Logger;
}

/** Queues one rollout; deploys mark the environment's desired revision so older ones are superseded. */
export async function enqueueRollout(
  deps: EnqueueDeps,
  req: Omit<RolloutJob, 'rolloutId'>,
): Promise<string> {
  const rolloutId = await deps.store.nextId('r');
  // A rollback is the newest intent too: a deploy queued before it (say, of the very revision it
  // takes out) must not run after it.
  if (req.kind !== 'auto-rollback') await deps.rollouts.setDesired(req.app, req.env, req.sha);
  const job: RolloutJob = { rolloutId, ...req };
  await deps.queues.rollouts.add('rollout', job, {
    jobId: rolloutJobId(req.app, req.env, req.sha, req.kind, rolloutId),
    priority: req.kind === 'deploy' ? PRIORITY.deploy : PRIORITY.rollback,
    // A rollout is not retried blindly: its own loop already rolls back; a crash resumes it.
    attempts: 1,
  });
  // From now on automation holds what was pushed before this rollback, not only once it has
  // succeeded and pinned: a build that finishes meanwhile must not deploy after it.
  if (req.kind === 'rollback') {
    const at = new Date().toISOString();
    const asked = { rolloutId, sha: req.sha, by: actorOf(req.trigger), at };
    await deps.rollouts.setRollbackAsked(req.app, req.env, asked);
  }
  return rolloutId;
}

/**
 * After a build: roll the revision out to every environment bound to its branch — except where
 * this exact commit already failed (it is not retried automatically for the same commit).
 */
export async function enqueueAfterBuild(
  deps: EnqueueDeps,
  build: { app: string; sha: string; branch: string; trigger: Trigger },
): Promise<string[]> {
  const app = await deps.store.getApp(build.app);
  const ids: string[] = [];
  // Deploys a person asked for before the image existed go first, with their own trigger.
  for (const p of await takePendingDeploys(deps, build.app, build.sha)) {
    ids.push(await enqueueRollout(deps, { ...p, app: build.app, sha: build.sha, kind: 'deploy' }));
  }
  // A build a person forced deploys only where they asked.
  if (build.trigger.kind === 'manual') return ids;
  for (const [env, binding] of Object.entries(app?.environments ?? {})) {
    if (binding.branch !== build.branch) continue;
    if (await deps.rollouts.hasFailed(build.app, env, build.sha)) {
      deps.log.info(
        { app: build.app, env, sha: build.sha },
        'not rolling out a revision that failed here before',
      );
      continue;
    }
    // Held by a rollback (its pin, or one still under way): recorded in the env's timeline.
    const held = await heldByPin(deps, { ...build, env, kind: 'deploy' });
    if (held) {
      deps.log.info({ app: build.app, env, sha: build.sha }, `not rolling out: ${held}`);
      continue;
    }
    ids.push(
      await enqueueRollout(deps, {
        app: build.app,
        env,
        sha: build.sha,
        kind: 'deploy',
        trigger: build.trigger,
      }),
    );
  }
  return ids;
}
