/**
 * Releases as the rollout and the reconciler use them: which release a rollout job moves to
 * (made now for a build, given for a config change, copied for a rollback), and the config an
 * instance of a release starts with (vars, and secret values opened only here, at the edge).
 */
import type { AppSpec } from '../config/app-spec.js';
import type { RolloutJob } from '../queue/jobs.js';
import type { ReleaseRecord } from '../release/releases.js';
import type { Trigger } from '../store/records.js';
import { EMPTY_CONFIG, requireSecrets, type ReleaseConfig } from './instance-spec.js';
import type { RolloutDeps } from './rollout-deps.js';

/** Who a release is recorded as made by. */
export function actorOf(trigger: Trigger): string {
  switch (trigger.kind) {
    case 'webhook':
      return trigger.actor
        ? `${trigger.actor} (webhook ${trigger.provider})`
        : `webhook ${trigger.provider}`;
    case 'poll':
      return 'poll';
    case 'manual':
      return trigger.actor;
  }
}

/** The release a rollout job moves the environment to, made now when the job does not name one. */
export async function releaseForJob(
  deps: Pick<RolloutDeps, 'releases' | 'config'>,
  job: RolloutJob,
  image: string,
): Promise<ReleaseRecord> {
  const { app, env } = job;
  if (job.release !== undefined) return deps.releases.require(app, env, job.release);
  const by = actorOf(job.trigger);
  if (job.restore !== undefined) {
    const old = await deps.releases.require(app, env, job.restore);
    // Code and config come back together: the old release's image, vars and secret versions.
    return deps.releases.create({
      app,
      env,
      sha: old.sha,
      image: old.image,
      config: old.config,
      change: { kind: 'rollback', to: old.version },
      by,
    });
  }
  return deps.releases.create({
    app,
    env,
    sha: job.sha,
    image,
    config: await deps.config.snapshot(app, env),
    change: { kind: 'build', sha: job.sha },
    by,
  });
}

/**
 * The config instances of each release start with, secrets opened. A rollout needs both sides:
 * a rollback restarts old instances with the old release's config. A declared secret missing
 * from the new release stops the rollout here, before anything starts.
 */
export async function configsFor(
  deps: Pick<RolloutDeps, 'releases' | 'config'>,
  app: string,
  env: string,
  spec: AppSpec,
  releases: { to: number | undefined; from: number | undefined },
): Promise<ReadonlyMap<number | undefined, ReleaseConfig>> {
  const out = new Map<number | undefined, ReleaseConfig>();
  for (const [side, version] of [
    ['to', releases.to],
    ['from', releases.from],
  ] as const) {
    if (version === undefined || out.has(version)) continue;
    const rel = await deps.releases.get(app, env, version);
    if (!rel) continue;
    const secrets = await deps.config.open(app, env, rel.config.secrets);
    if (side === 'to') requireSecrets(spec, env, secrets);
    out.set(version, { vars: rel.config.vars, secrets });
  }
  if (releases.to === undefined) requireSecrets(spec, env, {});
  return out;
}

/** The config for a start action's release; instances from before releases get none. */
export function configOf(
  configs: ReadonlyMap<number | undefined, ReleaseConfig>,
  release: number | undefined,
): ReleaseConfig {
  return configs.get(release) ?? EMPTY_CONFIG;
}
