import type { Logger } from 'pino';
import { GantryError, isGantryError } from '../errors.js';
import {
  appliesAnything,
  describeChanges,
  diffConfig,
  reloaded,
  type ConfigChanges,
} from './config-diff.js';
import { loadControllerConfig, type ControllerConfig } from './controller-config.js';
import type { LiveConfig } from './live-config.js';

/** What one reload did: the changes found (names only) and whether any of them were applied. */
export interface ReloadReport {
  readonly file: string;
  readonly applied: boolean;
  readonly changes: ConfigChanges;
}

export interface ReloadOptions {
  live: LiveConfig;
  /** The file the controller was started from; undefined when it was given a parsed config. */
  file: string | undefined;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

/**
 * Re-reads the config file and applies its reloadable parts (repos, tokens, notifications).
 * Validation comes first and is all-or-nothing: an invalid file throws GANTRY_ERR_CONFIG_REJECTED
 * listing `file:line:col` problems, and the running config stays exactly as it was. Values that
 * need a restart are reported, not applied.
 */
export function reloadConfigFile(opts: ReloadOptions): ReloadReport {
  const { live, file, log } = opts;
  if (file === undefined) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_NO_FILE',
      'this controller was started without a config file, so there is none to re-read; restart it to change its config',
    );
  }
  let next: ControllerConfig;
  try {
    next = loadControllerConfig(file, opts.env);
  } catch (e) {
    if (!isGantryError(e, 'GANTRY_ERR_CONFIG_INVALID')) throw e;
    log.warn({ file, err: e.message }, 'config reload rejected: keeping the running config');
    throw new GantryError('GANTRY_ERR_CONFIG_REJECTED', e.message, {
      cause: e,
      details: e.details ?? { file },
    });
  }
  const prev = live.current();
  const changes = diffConfig(prev, next);
  const applied = appliesAnything(changes);
  // Listeners (the repo registry, and through it the poller) run inside replace(): once it
  // returns, webhooks, auth and notifications all see the new version.
  if (applied) live.replace(reloaded(prev, next));
  const { repos, tokens, notifications, needsRestart } = changes;
  log.info(
    { file, repos, tokens, notifications, needsRestart },
    `config reloaded: ${describeChanges(changes)}`,
  );
  if (needsRestart.length > 0) {
    log.warn({ needsRestart }, `config: needs a restart: ${needsRestart.join(', ')}`);
  }
  return { file, applied, changes };
}
