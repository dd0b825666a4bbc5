/**
 * `gantry scale` and `gantry restart`. Scale stores the environment's formation and, when
 * something runs there, makes a release of the running image and config with it and rolls it out
 * (no rebuild; the release shares the running instances, so only the difference starts or
 * stops). Restart rolls the running release's instances through the health gates, replaced one
 * by one, without a new release.
 */
import { specForEnv } from '../../config/spec-for-env.js';
import type { AppSpec } from '../../config/app-spec.js';
import { GantryError } from '../../errors.js';
import {
  checkFormation,
  declaredProcesses,
  formationText,
  type Formation,
} from '../../release/formation.js';
import type { ReleaseRecord } from '../../release/releases.js';
import { specAt } from '../../source/spec-at.js';
import type { AppRecord, EnvState } from '../../store/records.js';
import { enqueueRollout } from '../enqueue.js';
import { releaseRunning } from './release-change.js';
import type { ConfigDeps } from './config.js';
import { appEnv, type OpsDeps } from './context.js';

export interface ScaleResult {
  app: string;
  env: string;
  processes: Formation;
  /** The release made, when something runs in the environment (else the next deploy takes it). */
  release: ReleaseRecord | null;
  rolloutId: string | null;
}

/** Sets replicas per process type and rolls the new release out (held by a freeze like a deploy). */
export async function scale(
  deps: ConfigDeps,
  req: {
    app: string;
    env?: string | undefined;
    processes: Formation;
    actor: string;
    /** The controller's cap (deploy.maxReplicas). */
    maxReplicas: number;
  },
): Promise<ScaleResult> {
  const { app, env, branch } = await appEnv(deps, req.app, req.env);
  const state = await deps.rollouts.env(app.name, env);
  const spec = await specOf(deps, app, env, branch, state);
  checkFormation(req.processes, declaredProcesses(spec), req.maxReplicas);
  await deps.config.scale(app.name, env, req.processes, req.actor);
  deps.log.info(
    { app: app.name, env, processes: req.processes, actor: req.actor },
    `scaled ${formationText(req.processes)}`,
  );
  const current = state.current;
  if (!current)
    return { app: app.name, env, processes: req.processes, release: null, rolloutId: null };
  const { release, rolloutId } = await releaseRunning(deps, {
    app: app.name,
    env,
    current,
    change: { kind: 'scale', processes: { ...req.processes } },
    actor: req.actor,
    via: 'scale',
  });
  return { app: app.name, env, processes: req.processes, release, rolloutId };
}

export interface RestartResult {
  app: string;
  env: string;
  /** The process types restarted; empty: all of them. */
  processes: string[];
  release: number | null;
  rolloutId: string;
}

/** A rolling restart of what runs: every instance (of `process`, when given) replaced. */
export async function restart(
  deps: OpsDeps,
  req: { app: string; env?: string | undefined; process?: string | undefined; actor: string },
): Promise<RestartResult> {
  const { app, env, branch } = await appEnv(deps, req.app, req.env);
  const state = await deps.rollouts.env(app.name, env);
  const current = state.current;
  if (!current) {
    throw new GantryError(
      'GANTRY_ERR_ENV_EMPTY',
      `nothing runs in ${app.name}/${env} yet: deploy it before restarting it`,
    );
  }
  const processes = req.process === undefined ? [] : [req.process];
  if (req.process !== undefined) {
    const declared = declaredProcesses(await specOf(deps, app, env, branch, state));
    if (!declared.includes(req.process)) {
      throw new GantryError(
        'GANTRY_ERR_SCALE_INVALID',
        `${req.process.slice(0, 40)} is not a process of ${app.name}; it declares ${declared.join(', ')}`,
      );
    }
  }
  const rolloutId = await enqueueRollout(deps, {
    app: app.name,
    env,
    sha: current.sha,
    kind: 'deploy',
    trigger: { kind: 'manual', actor: req.actor, via: 'restart' },
    ...(current.release === undefined ? {} : { release: current.release }),
    restart: processes,
  });
  deps.log.info({ app: app.name, env, processes, actor: req.actor, rolloutId }, 'restart queued');
  return { app: app.name, env, processes, release: current.release ?? null, rolloutId };
}

/**
 * The spec whose process types a scale or restart names: the running release's commit, else
 * (nothing runs yet) the newest revision built from the environment's branch.
 */
async function specOf(
  deps: OpsDeps,
  app: AppRecord,
  env: string,
  branch: string,
  state: EnvState,
): Promise<AppSpec> {
  const sha =
    state.current?.sha ??
    (await deps.store.listRevisions(app.name)).find((r) => r.branch === branch && r.image)?.sha;
  if (!sha) {
    throw new GantryError(
      'GANTRY_ERR_ENV_EMPTY',
      `nothing of ${app.name} was built for ${env} yet: push before scaling it`,
    );
  }
  const revision = await deps.store.getRevision(app.name, sha);
  return specForEnv(
    await specAt(deps.repos.get(app.repo), app.path, sha, revision?.branch ?? branch),
    env,
  );
}
