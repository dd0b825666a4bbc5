/**
 * One-click rollback: the recorded image of an earlier revision goes out through the same
 * rollout engine and health gates, no rebuild; and its preview, what it takes out of production.
 */
import { GantryError } from '../../errors.js';
import {
  commitSummary,
  commitsBetween,
  type CommitSummary,
  type RevisionSummary,
} from '../../history/changes.js';
import { prUrlFor } from '../../history/pull-request.js';
import type { EnvState } from '../../store/records.js';
import { enqueueRollout } from '../enqueue.js';
import { chooseRollbackTarget } from './choices.js';
import { chooseReleaseTarget, releaseRef } from './release-target.js';
import { appEnv, type OpsDeps } from './context.js';

/** How many of an environment's rollouts a rollback looks through for its target. */
const HISTORY_LOOKED_AT = 200;

interface Target {
  app: string;
  env: string;
  state: EnvState & { current: NonNullable<EnvState['current']> };
  to: { sha: string; image: string };
  /** The release the target rollout ran (image and config come back together), when recorded. */
  restore: number | undefined;
}

/** The environment's current revision and the revision a rollback would go to, or why none. */
async function target(
  deps: OpsDeps,
  appName: string,
  envName: string | undefined,
  to: string | undefined,
): Promise<Target> {
  const { app, env } = await appEnv(deps, appName, envName);
  const state = await deps.rollouts.env(app.name, env);
  const records = await deps.rollouts.list(app.name, env, HISTORY_LOOKED_AT);
  // `vN` names a release (image and config); anything else a commit.
  const release = releaseRef(to);
  const choice =
    release !== undefined
      ? chooseReleaseTarget({ records, current: state.current }, release)
      : chooseRollbackTarget({
          records,
          current: state.current,
          excluded: state.pin?.excluded ?? [],
          to,
        });
  if (!choice.ok) {
    throw new GantryError(choice.code, `cannot roll back ${app.name}/${env}: ${choice.why}`);
  }
  const current = state.current!;
  const restore = records.find((r) => r.id === choice.rolloutId)?.to.release;
  return {
    app: app.name,
    env,
    state: { ...state, current },
    to: { sha: choice.sha, image: choice.image },
    restore,
  };
}

/** Queues a rollback (it jumps the queue and passes a deploy freeze); returns what it moves. */
export async function rollback(
  deps: OpsDeps,
  req: { app: string; env?: string | undefined; to?: string | undefined; actor: string },
): Promise<{
  rolloutId: string;
  env: string;
  from: string;
  to: string;
  /** The release restored (its image and config), when the target rollout recorded one. */
  release?: number | undefined;
}> {
  const t = await target(deps, req.app, req.env, req.to);
  const rolloutId = await enqueueRollout(deps, {
    app: t.app,
    env: t.env,
    sha: t.to.sha,
    kind: 'rollback',
    trigger: { kind: 'manual', actor: req.actor, via: 'rollback' },
    restore: t.restore,
  });
  deps.log.info(
    { app: t.app, env: t.env, from: t.state.current.sha, to: t.to.sha, actor: req.actor },
    'rollback queued',
  );
  return {
    rolloutId,
    env: t.env,
    from: t.state.current.sha,
    to: t.to.sha,
    ...(t.restore === undefined ? {} : { release: t.restore }),
  };
}

/** A revision as the preview shows it: its commit (from the store) and its image. */
async function revisionSummary(
  deps: OpsDeps,
  app: string,
  sha: string,
  image: string,
  prUrl: (n: number) => string | undefined,
): Promise<RevisionSummary> {
  const rev = await deps.store.getRevision(app, sha);
  const commit: CommitSummary = rev
    ? commitSummary(rev.commit, prUrl)
    : { sha, message: '', author: '' };
  return { ...commit, image };
}

/** What a rollback would do: from the current revision to the target, and the commits it removes. */
export async function rollbackPreview(
  deps: OpsDeps,
  req: { app: string; env?: string | undefined; to?: string | undefined },
): Promise<{ env: string; from: RevisionSummary; to: RevisionSummary; removed: CommitSummary[] }> {
  const t = await target(deps, req.app, req.env, req.to);
  const appRec = (await deps.store.getApp(t.app))!;
  const repo = deps.repos.get(appRec.repo);
  const prUrl = prUrlFor(repo.config.url);
  const cur = t.state.current;
  const fromRev = await deps.store.getRevision(t.app, cur.sha);
  const removed = await commitsBetween(repo.cache, t.to.sha, cur.sha, {
    branch: fromRev?.branch ?? appRec.environments[t.env]?.branch,
    prUrl,
  });
  return {
    env: t.env,
    from: await revisionSummary(deps, t.app, cur.sha, cur.image, prUrl),
    to: await revisionSummary(deps, t.app, t.to.sha, t.to.image, prUrl),
    removed,
  };
}
