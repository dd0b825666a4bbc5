/**
 * Deploys a person asks for: a ref (commit or branch) to an environment, the exact image running
 * in one environment to another (promote), a failed rollout's revision again (retry), and the
 * branch's newest revision after an unpin. None of them needs a dummy commit; none rebuilds an
 * image that exists.
 */
import { GantryError, isGantryError } from '../../errors.js';
import { isSha } from '../../git/commit-id.js';
import { buildJobId } from '../../queue/names.js';
import type { BuildJob } from '../../queue/jobs.js';
import { prNumberFromMessage } from '../../source/commit-meta.js';
import type { AppRecord, Trigger } from '../../store/records.js';
import { enqueueRollout } from '../enqueue.js';
import { appEnv, loadApp, type OpsDeps } from './context.js';
import { announceEnv } from './lock.js';
import { addPendingDeploy, takePendingDeploys } from './pending.js';

/** How many of an app's revisions an abbreviated sha is looked up in. */
const REVISIONS_SEARCHED = 1000;

type Via = NonNullable<Extract<Trigger, { kind: 'manual' }>['via']>;

function manual(actor: string, via: Via): Trigger {
  return { kind: 'manual', actor, via };
}

/**
 * A ref as a commit: a full sha (known to the app, or found in the branch's history), an
 * abbreviated sha of a known revision, or a branch name (its head on the remote).
 */
export async function resolveRef(
  deps: OpsDeps,
  app: AppRecord,
  envBranch: string,
  ref: string,
): Promise<{ sha: string; branch: string }> {
  const cache = deps.repos.get(app.repo).cache;
  if (isSha(ref)) {
    const rev = await deps.store.getRevision(app.name, ref);
    if (rev) return { sha: ref, branch: rev.branch };
    await cache.ensureCommit(ref, envBranch);
    return { sha: ref, branch: envBranch };
  }
  if (/^[0-9a-f]{4,39}$/.test(ref)) {
    const revs = await deps.store.listRevisions(app.name, REVISIONS_SEARCHED);
    const hits = revs.filter((r) => r.sha.startsWith(ref));
    if (hits.length > 1) {
      throw new GantryError(
        'GANTRY_ERR_REF_INVALID',
        `${ref} is ambiguous: ${hits.map((r) => r.sha.slice(0, 12)).join(', ')}`,
      );
    }
    if (hits[0]) return { sha: hits[0].sha, branch: hits[0].branch };
  }
  try {
    return { sha: await cache.fetch(ref), branch: ref };
  } catch (e) {
    // Only "no such branch" means the ref is unknown; a remote that is away stays a 502.
    if (
      !isGantryError(e, 'GANTRY_ERR_GIT_NOT_FOUND') &&
      !isGantryError(e, 'GANTRY_ERR_REF_INVALID')
    )
      throw e;
    throw new GantryError(
      'GANTRY_ERR_REF_UNKNOWN',
      `${ref} is neither a revision of ${app.name} nor a branch of its repo`,
      { cause: e },
    );
  }
}

/**
 * Deploys `ref` to an environment. Built → a rollout now (it bypasses the "failed here before"
 * marker: a person asked). Not built → a forced build, and the rollout follows it.
 */
export async function deployRef(
  deps: OpsDeps,
  req: {
    app: string;
    env?: string | undefined;
    ref: string;
    actor: string;
    /** Whether a ref of another branch than the environment's may go (deploy:any-branch). */
    anyBranch: boolean;
  },
): Promise<{ rolloutId?: string; buildId?: string; env: string; sha: string }> {
  const { app, env, branch } = await appEnv(deps, req.app, req.env);
  const { sha, branch: revBranch } = await resolveRef(deps, app, branch, req.ref);
  // Refused before anything is recorded or built: an untracked branch changes nothing here.
  if (revBranch !== branch && !req.anyBranch) {
    throw new GantryError(
      'GANTRY_ERR_PERMISSION_REQUIRED',
      `${req.ref} is on branch ${revBranch}, but ${app.name}/${env} tracks ${branch}; deploying another branch needs the deploy:any-branch permission`,
    );
  }
  const trigger = manual(req.actor, 'deploy');
  const rev = await deps.store.getRevision(app.name, sha);
  if (rev?.image) {
    // A redeploy of what runs restarts every process through the health gates (Heroku's
    // "restart"), where a deploy would find nothing to change and end at once.
    const running = (await deps.rollouts.env(app.name, env)).current?.sha === sha;
    const rolloutId = await enqueueRollout(deps, {
      app: app.name,
      env,
      sha,
      kind: 'deploy',
      trigger,
      ...(running ? { restart: [] } : {}),
    });
    return { rolloutId, env, sha };
  }
  // Noted before the build is queued, so whichever build finishes takes the request with it.
  await addPendingDeploy(deps, app.name, sha, { env, trigger });
  if (!rev) await recordRevision(deps, app, sha, revBranch);
  // The build may have finished between the first look and the note: then deploy here.
  if ((await deps.store.getRevision(app.name, sha))?.image) {
    const [taken] = await takePendingDeploys(deps, app.name, sha);
    const rolloutId = taken
      ? await enqueueRollout(deps, { app: app.name, env, sha, kind: 'deploy', trigger })
      : undefined;
    return { ...(rolloutId ? { rolloutId } : {}), env, sha };
  }
  const buildId = await forceBuild(deps, app, sha, revBranch, trigger);
  return { buildId, env, sha };
}

async function recordRevision(deps: OpsDeps, app: AppRecord, sha: string, branch: string) {
  const info = await deps.repos.get(app.repo).cache.commitInfo(sha);
  await deps.store.addRevision({
    app: app.name,
    sha,
    repo: app.repo,
    branch,
    commit: {
      sha,
      message: info.message,
      author: info.author,
      prNumber: prNumberFromMessage(info.message),
    },
    firstSeenAt: new Date().toISOString(),
  });
}

/** Queues a build of an exact commit, not skipped as superseded; reuses one already queued. */
async function forceBuild(
  deps: OpsDeps,
  app: AppRecord,
  sha: string,
  branch: string,
  trigger: Trigger,
): Promise<string> {
  const jobId = buildJobId(app.name, sha);
  const existing = await deps.queues.builds.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
      return existing.data.buildId;
    }
    // A finished job keeps its id: it must go before the same commit can be built again.
    await existing.remove();
  }
  const buildId = await deps.store.nextId('b');
  await deps.store.putBuild({
    id: buildId,
    app: app.name,
    sha,
    repo: app.repo,
    branch,
    trigger,
    status: 'queued',
    createdAt: new Date().toISOString(),
    attempts: 0,
  });
  const data: BuildJob = {
    buildId,
    app: app.name,
    appPath: app.path,
    repo: app.repo,
    branch,
    sha,
    force: true,
  };
  await deps.queues.builds.add('build', data, { jobId });
  return buildId;
}

/** Deploys the exact image running in environment `from` to environment `to`; never builds. */
export async function promote(
  deps: OpsDeps,
  req: { app: string; from: string; to: string; actor: string },
): Promise<{ rolloutId: string; env: string; sha: string; image: string }> {
  const { app, env: from } = await appEnv(deps, req.app, req.from);
  const { env: to } = await appEnv(deps, req.app, req.to);
  if (from === to) {
    throw new GantryError(
      'GANTRY_ERR_ENV_REQUIRED',
      `promote needs two environments, not ${from} twice`,
    );
  }
  const { current } = await deps.rollouts.env(app.name, from);
  if (!current) {
    throw new GantryError('GANTRY_ERR_ENV_EMPTY', `${app.name}/${from} runs nothing to promote`);
  }
  const rev = await deps.store.getRevision(app.name, current.sha);
  if (rev?.image?.pinned !== current.image) {
    // Revisions are built once and never retagged, so this means the records disagree: stop.
    throw new GantryError(
      'GANTRY_ERR_ENV_EMPTY',
      `${app.name}/${from} runs ${current.image}, which is not the recorded image of ${current.sha.slice(0, 12)}`,
    );
  }
  const rolloutId = await enqueueRollout(deps, {
    app: app.name,
    env: to,
    sha: current.sha,
    kind: 'deploy',
    trigger: manual(req.actor, 'promote'),
  });
  return { rolloutId, env: to, sha: current.sha, image: current.image };
}

/** Runs a failed, aborted or superseded rollout's target revision again, as a new rollout. */
export async function retry(
  deps: OpsDeps,
  req: { rolloutId: string; actor: string },
): Promise<{ rolloutId: string; env: string; sha: string }> {
  const rec = await deps.rollouts.get(req.rolloutId);
  if (!rec) throw new GantryError('GANTRY_ERR_NOT_FOUND', `rollout ${req.rolloutId} is not known`);
  if (!rec.outcome) {
    throw new GantryError('GANTRY_ERR_NOT_RETRYABLE', `rollout ${rec.id} is still running`);
  }
  if (rec.outcome === 'succeeded') {
    throw new GantryError(
      'GANTRY_ERR_NOT_RETRYABLE',
      `rollout ${rec.id} succeeded; deploy ${rec.to.sha.slice(0, 12)} to run it again`,
    );
  }
  await loadApp(deps, rec.app);
  const rolloutId = await enqueueRollout(deps, {
    app: rec.app,
    env: rec.env,
    sha: rec.to.sha,
    kind: rec.kind === 'deploy' ? 'deploy' : 'rollback',
    trigger: manual(req.actor, 'retry'),
  });
  return { rolloutId, env: rec.env, sha: rec.to.sha };
}

/**
 * Ends a pin, and hands the environment back to automation: the branch's newest built revision
 * that has not failed here is deployed when it is not what runs.
 */
export async function unpin(
  deps: OpsDeps,
  req: { app: string; env?: string | undefined; actor: string },
): Promise<{ env: string; rolloutId?: string; sha?: string }> {
  const { app, env, branch } = await appEnv(deps, req.app, req.env);
  if (await deps.rollouts.clearPin(app.name, env)) {
    await announceEnv(deps, app.name, env, 'unpinned', `unpinned by ${req.actor}`);
  }
  const state = await deps.rollouts.env(app.name, env);
  for (const rev of await deps.store.listRevisions(app.name, REVISIONS_SEARCHED)) {
    if (rev.branch !== branch || !rev.image) continue;
    if (await deps.rollouts.hasFailed(app.name, env, rev.sha)) continue;
    if (rev.sha === state.current?.sha) return { env };
    const rolloutId = await enqueueRollout(deps, {
      app: app.name,
      env,
      sha: rev.sha,
      kind: 'deploy',
      trigger: manual(req.actor, 'unpin'),
    });
    return { env, rolloutId, sha: rev.sha };
  }
  return { env };
}
