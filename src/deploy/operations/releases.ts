/**
 * Releases as people read them (`gantry releases`, the dashboard), the secrets an app declares
 * (what `config:import-env` imports by default), and the re-seal after a key rotation.
 */
import { specForEnv } from '../../config/spec-for-env.js';
import { GantryError } from '../../errors.js';
import { describeRelease, type ReleaseRecord } from '../../release/releases.js';
import { specAt } from '../../source/spec-at.js';
import type { ConfigDeps } from './config.js';
import { appEnv } from './context.js';

/** A release with its one-line description and whether it is what serves now. */
export type ReleaseView = ReleaseRecord & { line: string; current: boolean };

/** An environment's releases, newest first, the current one marked. */
export async function listReleases(
  deps: ConfigDeps,
  req: { app: string; env?: string | undefined; limit?: number | undefined },
): Promise<{ app: string; env: string; current: number | null; releases: ReleaseView[] }> {
  const { app, env } = await appEnv(deps, req.app, req.env);
  const [state, releases] = await Promise.all([
    deps.rollouts.env(app.name, env),
    deps.releases.list(app.name, env, req.limit ?? 50),
  ]);
  const current = state.current?.release ?? null;
  return {
    app: app.name,
    env,
    current,
    releases: releases.map((r) => ({
      ...r,
      line: describeRelease(r),
      current: r.version === current,
    })),
  };
}

/**
 * The secrets the app's spec declares for an environment (`run.secrets`), read at the newest
 * revision of its branch (what deploys next: the migration is for the spec that declares them),
 * else at the revision that serves there.
 */
export async function declaredSecrets(
  deps: ConfigDeps,
  req: { app: string; env?: string | undefined },
): Promise<{ env: string; names: string[] }> {
  const { app, env, branch } = await appEnv(deps, req.app, req.env);
  const state = await deps.rollouts.env(app.name, env);
  const sha =
    (await deps.store.listRevisions(app.name)).find((r) => r.branch === branch)?.sha ??
    state.current?.sha;
  if (!sha) {
    throw new GantryError(
      'GANTRY_ERR_BAD_REQUEST',
      `nothing of ${app.name} was built for ${env} yet: name the secrets to import`,
    );
  }
  const revision = await deps.store.getRevision(app.name, sha);
  const spec = await specAt(deps.repos.get(app.repo), app.path, sha, revision?.branch ?? branch);
  return { env, names: [...specForEnv(spec, env).run.secrets] };
}

/**
 * Re-seals every stored secret version of every app environment under the current key. Run it
 * after a key rotation, before the old key leaves `previousKeyFiles`.
 */
export async function rotateSecrets(
  deps: ConfigDeps,
): Promise<{ resealed: number; environments: number }> {
  const seen = new Map<string, { app: string; env: string }>();
  const add = (app: string, env: string) => seen.set(`${app}\u0000${env}`, { app, env });
  for (const a of await deps.store.listApps())
    for (const env of Object.keys(a.environments)) add(a.name, env);
  // An environment that left the spec keeps its secrets until it is pruned.
  for (const d of await deps.rollouts.deployedEnvs()) add(d.app, d.env);
  const envs = [...seen.values()];
  const resealed = await deps.config.rotate(envs);
  deps.log.info({ resealed, environments: envs.length }, 'secrets re-sealed under the current key');
  return { resealed, environments: envs.length };
}
