/**
 * Manual deploys of a commit that has no image yet: recorded here, taken by whoever sees the
 * image first (the build's afterBuild, or the request itself when the build finished meanwhile).
 */
import type { Trigger } from '../../store/records.js';
import type { Store } from '../../store/store.js';

/** A person's deploy request waiting for a build. */
export interface PendingDeploy {
  env: string;
  trigger: Trigger;
}

// A request whose build never finishes is forgotten after a day rather than surprising anyone.
const PENDING_TTL_SECONDS = 24 * 3600;

/** Records that `env` should get `app@sha` once it is built. */
export async function addPendingDeploy(
  deps: { store: Store },
  app: string,
  sha: string,
  p: PendingDeploy,
): Promise<void> {
  const key = deps.store.keys.pendingDeploys(app, sha);
  await deps.store.redis
    .multi()
    .hset(key, p.env, JSON.stringify(p.trigger))
    .expire(key, PENDING_TTL_SECONDS)
    .exec();
}

/** Takes the waiting requests for `app@sha`; each is handed to exactly one caller (HDEL decides). */
export async function takePendingDeploys(
  deps: { store: Store },
  app: string,
  sha: string,
): Promise<PendingDeploy[]> {
  const key = deps.store.keys.pendingDeploys(app, sha);
  const all = await deps.store.redis.hgetall(key);
  const taken: PendingDeploy[] = [];
  for (const [env, trigger] of Object.entries(all)) {
    if ((await deps.store.redis.hdel(key, env)) === 1) {
      taken.push({ env, trigger: JSON.parse(trigger) as Trigger });
    }
  }
  return taken;
}
