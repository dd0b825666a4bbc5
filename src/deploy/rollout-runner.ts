/**
 * Runs one rollout to its end: open (or resume) its record → ensure the environment's route →
 * the release phase (release-phase.ts) → the observe → decide → persist → act loop, until the core says it is finished. Another process
 * that picks the job up after a crash resumes from the persisted state and what the runtime
 * reports.
 */
import type { RolloutJob } from '../queue/jobs.js';
import type { RolloutRecord } from '../store/records.js';
import { configsFor } from './release-config.js';
import type { Fence, RolloutDeps } from './rollout-deps.js';
import { RolloutLoop } from './rollout-loop.js';
import { ensureEnvRoute, openRollout } from './rollout-record.js';
import { runReleasePhase } from './release-phase.js';
import { onTarget } from './targets.js';

export type { Fence, RolloutDeps } from './rollout-deps.js';

/**
 * The deps of the rollout's target (its record names it), which becomes its environment's: the
 * reconciler and the API find the instances there from now on.
 */
async function onEnvTarget(deps: RolloutDeps, rec: RolloutRecord): Promise<RolloutDeps> {
  if (!deps.targets || rec.target === undefined) return deps;
  const target = deps.targets.get(rec.target);
  const state = await deps.rollouts.env(rec.app, rec.env);
  if (state.target !== target.name) {
    // A listener of another target's edge means nothing on this one: the route is made anew.
    const moved = (state.target ?? deps.targets.defaultTarget) !== target.name;
    await deps.rollouts.updateEnv(rec.app, rec.env, {
      target: target.name,
      ...(moved ? { route: null } : {}),
    });
  }
  return onTarget(deps, target);
}

export async function runRollout(
  deps: RolloutDeps,
  job: RolloutJob,
  fence?: Fence,
): Promise<RolloutRecord> {
  fence?.check();
  const opened = await openRollout(deps, job, fence);
  if (opened.kind === 'done') return opened.rec;
  const { rec, spec } = opened;
  deps = await onEnvTarget(deps, rec);
  const route = await ensureEnvRoute(
    deps,
    job.app,
    job.env,
    spec,
    await deps.rollouts.env(job.app, job.env),
  );
  // By the release instances are labelled with: a scale-only release's are its source's.
  const configs = await configsFor(deps, job.app, job.env, spec, {
    to: rec.to.instancesOf ?? rec.to.release,
    from: rec.from ? (rec.from.instancesOf ?? rec.from.release) : undefined,
  });
  // Before any new instance starts: a failing release command ends the rollout here, unchanged.
  const phase = await runReleasePhase(deps, rec, spec, configs, fence);
  if (phase.kind === 'failed') return phase.rec;
  fence?.check();
  const loop = new RolloutLoop(deps, phase.rec, spec, route.id, configs, fence);
  try {
    return await loop.run();
  } finally {
    loop.close();
  }
}
