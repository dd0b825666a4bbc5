/** What every deploy operation needs, and the two look-ups they all start with. */
import type { Logger } from 'pino';
import { GantryError } from '../../errors.js';
import type { Queues } from '../../queue/queues.js';
import type { RepoRegistry } from '../../source/repos.js';
import type { AppRecord } from '../../store/records.js';
import type { RolloutStore } from '../../store/rollouts.js';
import type { Store } from '../../store/store.js';
import { selectEnv } from './choices.js';

export interface OpsDeps {
  store: Store;
  rollouts: RolloutStore;
  queues: Queues;
  repos: RepoRegistry;
  log: Logger;
}

/** The app record, or GANTRY_ERR_NOT_FOUND. */
export async function loadApp(deps: OpsDeps, name: string): Promise<AppRecord> {
  const app = await deps.store.getApp(name);
  if (!app) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${name} is not known`);
  return app;
}

/** The app and the environment an operation is about (see selectEnv). */
export async function appEnv(
  deps: OpsDeps,
  name: string,
  env: string | undefined,
): Promise<{ app: AppRecord; env: string; branch: string }> {
  const app = await loadApp(deps, name);
  const chosen = selectEnv(Object.keys(app.environments), env);
  return { app, env: chosen, branch: app.environments[chosen]!.branch };
}
