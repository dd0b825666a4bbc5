/**
 * Config vars and secrets of an environment, and the release each change makes: `config:set` /
 * `config:unset` store the change, then — when something runs there — make a release of the
 * running image with the new config and roll it out through the same health gates, no rebuild.
 */
import type { ChangedKeys, ConfigChange, ConfigView } from '../../release/config-store.js';
import type { ReleaseRecord } from '../../release/releases.js';
import { releaseRunning, type ConfigDeps } from './release-change.js';
import { secretVar } from '../instance-spec.js';
import { appEnv } from './context.js';
import { GantryError } from '../../errors.js';

export type { ConfigDeps };

/** What an environment's config is now: var values, secret names with who set them (no values). */
export async function readConfig(
  deps: ConfigDeps,
  req: { app: string; env?: string | undefined },
): Promise<{ app: string; env: string; config: ConfigView; release: number | null }> {
  const { app, env } = await appEnv(deps, req.app, req.env);
  const state = await deps.rollouts.env(app.name, env);
  return {
    app: app.name,
    env,
    config: await deps.config.view(app.name, env),
    release: state.current?.release ?? null,
  };
}

export interface ConfigChangeResult {
  app: string;
  env: string;
  changed: ChangedKeys;
  /** The release made, when something runs in the environment (else the next deploy takes it). */
  release: ReleaseRecord | null;
  rolloutId: string | null;
}

/** Applies a change and rolls the new release out (a deploy: a freeze holds it, like any deploy). */
export async function changeConfig(
  deps: ConfigDeps,
  req: { app: string; env?: string | undefined; change: ConfigChange; actor: string },
): Promise<ConfigChangeResult> {
  const { app, env } = await appEnv(deps, req.app, req.env);
  const changed = await deps.config.apply(app.name, env, req.change, req.actor);
  const state = await deps.rollouts.env(app.name, env);
  const current = state.current;
  deps.log.info(
    {
      app: app.name,
      env,
      set: changed.set,
      secrets: changed.secrets,
      unset: changed.unset,
      actor: req.actor,
    },
    'config changed',
  );
  if (!current) return { app: app.name, env, changed, release: null, rolloutId: null };
  const { release, rolloutId } = await releaseRunning(deps, {
    app: app.name,
    env,
    current,
    change: { kind: 'config', ...changed },
    actor: req.actor,
    via: 'config',
  });
  return { app: app.name, env, changed, release, rolloutId };
}

/**
 * The migration from `GANTRY_SECRET_<NAME>` in the controller's environment: the app's declared
 * secrets found there become secrets of this environment, once, as one release. Names only are
 * reported; values never leave the controller.
 */
export async function importEnvSecrets(
  deps: ConfigDeps,
  req: { app: string; env?: string | undefined; names: readonly string[]; actor: string },
  source: NodeJS.ProcessEnv = process.env,
): Promise<ConfigChangeResult & { imported: string[]; missing: string[] }> {
  const secrets: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of req.names) {
    const value = source[secretVar(name)];
    if (value === undefined) missing.push(name);
    else secrets[name] = value;
  }
  if (Object.keys(secrets).length === 0) {
    throw new GantryError(
      'GANTRY_ERR_SECRET_MISSING',
      `none of ${req.names.map(secretVar).join(', ')} is set in the controller's environment`,
    );
  }
  const result = await changeConfig(deps, { ...req, change: { secrets } });
  return { ...result, imported: Object.keys(secrets), missing };
}
