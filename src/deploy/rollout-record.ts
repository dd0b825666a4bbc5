/**
 * A rollout's record before its loop starts: created from the job (its plan and initial state),
 * or found half-way after its process died, or closed at once when there is nothing to do.
 */
import type { AppSpec } from '../config/app-spec.js';
import { specForEnv } from '../config/spec-for-env.js';
import { DEFAULT_SPEC_LIMITS, checkSpecLimits } from '../config/spec-limits.js';
import type { RouteSpec } from '../edge/edge.js';
import { GantryError } from '../errors.js';
import { prUrlFor, pullRequestOf } from '../history/pull-request.js';
import type { RolloutJob } from '../queue/jobs.js';
import { initialState, planRollout } from '../rollout/index.js';
import { specAt } from '../source/spec-at.js';
import type { DeployedRevision, EnvState, RolloutRecord } from '../store/records.js';
import { heldByPin } from './operations/pin-hold.js';
import type { Fence, RolloutDeps } from './rollout-deps.js';
import { describeRelease, type ReleaseRecord } from '../release/releases.js';
import { releaseForJob } from './release-config.js';
import { runnerLine, type RolloutOperation } from './runner-events.js';
import { finishRecord, persist } from './settle.js';

/**
 * The edge's drain waits for the instance's in-flight requests to finish before each stop (up
 * to EDGE_DRAIN_TIMEOUT_MS, rollout-loop.ts); the core's own pause only lets the route change
 * reach the proxy, and the requests caught in the switch pick their upstream, first.
 */
export const DRAIN_MS = 500;

export type Opened =
  | { readonly kind: 'done'; readonly rec: RolloutRecord }
  | { readonly kind: 'run'; readonly rec: RolloutRecord; readonly spec: AppSpec };

/** Creates (or resumes) the rollout's record; `done` when it ends before it starts. */
export async function openRollout(
  deps: RolloutDeps,
  job: RolloutJob,
  fence: Fence | undefined,
): Promise<Opened> {
  let rec = await deps.rollouts.get(job.rolloutId);
  if (rec?.outcome) return { kind: 'done', rec };
  const appRec = await deps.store.getApp(job.app);
  if (!appRec) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${job.app} is not known`);
  const revision = await deps.store.getRevision(job.app, job.sha);
  if (!revision?.image) {
    throw new GantryError(
      'GANTRY_ERR_NOT_FOUND',
      `${job.app}@${job.sha.slice(0, 12)} has no built image`,
    );
  }
  const repo = deps.repos.get(appRec.repo);
  const spec = specForEnv(
    await specAt(repo, appRec.path, job.sha, revision.branch, deps.targets),
    job.env,
  );
  const envState = await deps.rollouts.env(job.app, job.env);

  // A record with a plan is one an earlier attempt began: carry on from its persisted state and
  // what the runtime reports now (its process died, or stalled past its lease).
  if (rec?.plan) {
    await deps.rollouts.appendEvents(rec, [runnerLine({ kind: 'resumed', at: Date.now() })]);
    return { kind: 'run', rec, spec };
  }
  // A new rollout must fit this controller's caps: one decision grows with the instance count
  // and runs on the event loop. (One already planned carries on under the caps it began with.)
  checkSpecLimits(spec, deps.specLimits ?? DEFAULT_SPEC_LIMITS, [job.env]);
  // Without a plan it is at most a placeholder written while the rollout waited on a lock.
  rec = {
    id: job.rolloutId,
    app: job.app,
    env: job.env,
    kind: job.kind,
    trigger: job.trigger,
    from: envState.current ? deployedOf(envState.current) : null,
    to: { sha: job.sha, image: revision.image.pinned },
    createdAt: new Date().toISOString(),
    // Copied once, so history answers "what did PR #42 ship" from the record alone.
    commit: revision.commit,
    pr: pullRequestOf(revision.commit, prUrlFor(repo.config.url)),
    ...(deps.targets ? { target: deps.targets.forSpec(spec, job.env).name } : {}),
  };
  // A newer deploy asked for after this one was queued makes it moot (rollbacks never are).
  if (job.kind === 'deploy' && envState.desired && envState.desired !== job.sha) {
    const reason = `superseded by ${envState.desired.slice(0, 12)}`;
    return { kind: 'done', rec: await finishRecord(deps, rec, 'superseded', reason, fence) };
  }
  const restart = job.restart !== undefined;
  if (restart && envState.current?.sha !== job.sha) {
    const reason = 'nothing to restart: the environment no longer runs this revision';
    return { kind: 'done', rec: await finishRecord(deps, rec, 'superseded', reason, fence) };
  }
  if (
    !restart &&
    envState.current?.sha === job.sha &&
    job.kind === 'deploy' &&
    job.release === undefined
  ) {
    const reason = 'already running this revision';
    return { kind: 'done', rec: await finishRecord(deps, rec, 'succeeded', reason, fence) };
  }
  // A rollback is final until a newer push: a deploy of a commit pushed before it is held.
  // (A restart moves nothing: what runs keeps running, pinned or not.)
  const held = restart ? undefined : await heldByPin(deps, job);
  if (held) return { kind: 'done', rec: await finishRecord(deps, rec, 'superseded', held, fence) };
  // What it moves to is a release: this commit's image with the environment's config now, a
  // release a config change made, or a copy of the release a rollback restores.
  // A restart replaces the instances of the release that runs, and makes no new one.
  const release =
    restart && envState.current?.release !== undefined
      ? await deps.releases.require(job.app, job.env, envState.current.release)
      : await releaseForJob(deps, job, revision.image.pinned);
  const to: DeployedRevision =
    restart && envState.current
      ? deployedOf(envState.current)
      : {
          sha: release.sha,
          image: release.image,
          release: release.version,
          ...(release.instancesOf === undefined ? {} : { instancesOf: release.instancesOf }),
        };
  rec = { ...rec, to };
  const plan = planRollout({
    rolloutId: rec.id,
    env: job.env,
    spec,
    from: rec.from,
    to: rec.to,
    // Placed on the hosts of the environment's target, where the loop will start them.
    hosts: (rec.target ? deps.targets!.get(rec.target).runtime : deps.runtime).hosts(),
    kind: job.kind,
    drainMs: DRAIN_MS,
    scale: release.config.scale,
    ...(restart ? { restart: job.restart } : {}),
  });
  rec = { ...rec, plan, state: initialState(plan) };
  await persist(deps, rec, fence);
  await deps.rollouts.appendEvents(rec, [
    runnerLine({
      kind: 'created',
      at: Date.now(),
      rolloutKind: job.kind,
      from: rec.from?.sha ?? null,
      to: job.sha,
      release: describeRelease(release),
      operation: operationOf(job, release),
    }),
  ]);
  return { kind: 'run', rec, spec };
}

/** What a rollout that moves no code does: a restart, or the rollout of a scale's release. */
export function operationOf(
  job: Pick<RolloutJob, 'restart'>,
  release: Pick<ReleaseRecord, 'version' | 'change'>,
): RolloutOperation | undefined {
  if (job.restart !== undefined) {
    return { kind: 'restart', processes: job.restart, version: release.version };
  }
  if (release.change.kind === 'scale') {
    return { kind: 'scale', formation: release.change.processes, version: release.version };
  }
  return undefined;
}

/** The revision an environment's current record names, as a rollout side. */
function deployedOf(current: DeployedRevision): DeployedRevision {
  return {
    sha: current.sha,
    image: current.image,
    ...(current.release === undefined ? {} : { release: current.release }),
    ...(current.instancesOf === undefined ? {} : { instancesOf: current.instancesOf }),
  };
}

/** The environment's edge route: the one it has, or a new listener the first time. */
export async function ensureEnvRoute(
  deps: RolloutDeps,
  app: string,
  env: string,
  spec: AppSpec,
  envState: Pick<EnvState, 'route'>,
): Promise<RouteSpec> {
  const known = envState.route;
  // The listener is kept for good; the domains follow gantry.yaml (a record's older `domain`
  // restricted the listener by Host, and is now one of the domains).
  const domains = [...(spec.environments[env]?.domains ?? [])];
  const route: RouteSpec = known
    ? {
        id: known.id,
        listen: { host: known.host, port: known.port },
        ...(domains.length > 0 ? { domains } : {}),
      }
    : await deps.routeFor(app, env, spec);
  const { url } = await deps.edge.ensureRoute(route);
  if (!known || known.url !== url || (known.domains ?? []).join() !== domains.join()) {
    const { id, listen } = route;
    await deps.rollouts.updateEnv(app, env, { route: { id, ...listen, domains, url } });
  }
  return route;
}
