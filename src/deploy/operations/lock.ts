/** Deploy freeze through the API: lock and unlock an environment, announced on the event bus. */
import type { EnvLock } from '../../store/records.js';
import { parseUntil } from './choices.js';
import { appEnv, type OpsDeps } from './context.js';

/** Locks an environment: pushes still build, deploy rollouts wait, rollbacks pass. */
export async function lock(
  deps: OpsDeps,
  req: {
    app: string;
    env?: string | undefined;
    reason: string;
    until?: string | undefined;
    actor: string;
  },
  now = Date.now(),
): Promise<{ env: string; lock: EnvLock }> {
  const { app, env } = await appEnv(deps, req.app, req.env);
  const until = req.until === undefined ? undefined : parseUntil(req.until, now);
  const value: EnvLock = {
    reason: req.reason,
    by: req.actor,
    at: new Date(now).toISOString(),
    ...(until ? { until } : {}),
  };
  await deps.rollouts.setLock(app.name, env, value);
  const text = `locked by ${req.actor}: ${req.reason}${until ? ` (until ${until})` : ''}`;
  await announceEnv(deps, app.name, env, 'locked', text, now);
  return { env, lock: value };
}

/** Lifts the lock (a no-op when there is none); held deploys go on within a second or so. */
export async function unlock(
  deps: OpsDeps,
  req: { app: string; env?: string | undefined; actor: string },
): Promise<{ env: string }> {
  const { app, env } = await appEnv(deps, req.app, req.env);
  if (await deps.rollouts.clearLock(app.name, env)) {
    await announceEnv(deps, app.name, env, 'unlocked', `unlocked by ${req.actor}`);
  }
  return { env };
}

/** Announces on the event bus that an environment's standing changed outside a rollout. */
export async function announceEnv(
  deps: OpsDeps,
  app: string,
  env: string,
  kind: 'locked' | 'unlocked' | 'unpinned',
  text: string,
  at = Date.now(),
): Promise<void> {
  await deps.rollouts.bus.publish({ type: 'env', app, env, kind, text, at });
}
