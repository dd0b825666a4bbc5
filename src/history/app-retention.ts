/**
 * Removed apps' records age out. An app is removed when the controller no longer follows its
 * repo and none of its environments is deployed (each was pruned); once its record has not
 * changed for `keepDays`, everything Gantry kept about it goes: rollouts, builds and logs,
 * revisions and images, timelines, config, sealed secrets and releases, the app record and its
 * name's ownership. A repo that comes back starts the app afresh.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';
import type { AppRecord } from '../store/records.js';
import { DAY_MS } from './expiry.js';

const BATCH = 500;

/** Whether `app` is removed and old enough to forget (see the module comment). Pure. */
export function isForgettable(
  record: Pick<AppRecord, 'repo' | 'updatedAt'>,
  followedRepos: ReadonlySet<string>,
  deployed: boolean,
  keepDays: number,
  now: number,
): boolean {
  if (followedRepos.has(record.repo) || deployed) return false;
  const at = Date.parse(record.updatedAt);
  return Number.isFinite(at) && at < now - keepDays * DAY_MS;
}

/** Forgets every removed app old enough; returns their names. */
export async function sweepRemovedApps(
  redis: Redis,
  keys: Keys,
  followedRepos: ReadonlySet<string>,
  keepDays: number,
  now: number,
): Promise<string[]> {
  const deployed = new Set(
    (await redis.smembers(keys.deployedEnvs())).map((m) => m.split('\n')[0]),
  );
  const forgotten: string[] = [];
  for (const app of await redis.smembers(keys.apps())) {
    const json = await redis.get(keys.app(app));
    // A name without a record is left alone: nothing says how old it is.
    if (!json) continue;
    const record = JSON.parse(json) as AppRecord;
    if (!isForgettable(record, followedRepos, deployed.has(app), keepDays, now)) continue;
    await forgetApp(redis, keys, app);
    forgotten.push(app);
  }
  return forgotten;
}

/** Deletes every record of `app`. Records by id first (found through the app's indexes). */
export async function forgetApp(redis: Redis, keys: Keys, app: string): Promise<void> {
  const builds = await redis.zrange(keys.builds(app), '0', '-1');
  await delInBatches(
    redis,
    builds.flatMap((id) => [keys.build(id), keys.buildLog(id)]),
  );
  const rollouts = await redis.zrange(keys.appRollouts(app), '0', '-1');
  await delInBatches(
    redis,
    rollouts.flatMap((id) => [
      keys.rollout(id),
      keys.rolloutEvents(id),
      keys.rolloutIntents(id),
      keys.lockNoticed(id),
      keys.forgeStatusPosted(id),
      keys.forgeDeployment(id),
    ]),
  );
  for (const pattern of keys.appKeyPatterns(app)) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH);
      cursor = next;
      await delInBatches(redis, found);
    } while (cursor !== '0');
  }
  const byPath = await redis.hgetall(keys.appByPath());
  const paths = Object.keys(byPath).filter((p) => byPath[p] === app);
  const multi = redis.multi().srem(keys.apps(), app);
  if (paths.length > 0) multi.hdel(keys.appByPath(), ...paths);
  await multi.exec();
}

async function delInBatches(redis: Redis, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    if (batch.length > 0) await redis.unlink(...batch);
  }
}
