/**
 * Build records (with their logs) and revisions (with their image records) age out under the
 * history settings, beside the rollout records (retention.ts). What is still in use stays: a build
 * that has not finished, and a revision an environment runs, wants, is pinned to, or that a kept
 * rollout record names (its rollback target).
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';
import {
  FINISHED_BUILD_STATUSES,
  type BuildRecord,
  type EnvState,
  type RolloutRecord,
} from '../store/records.js';
import { DAY_MS, expiredIds, toEntries } from './expiry.js';

export interface RecordRetentionPolicy {
  keepDays: number;
  keepBuildsPerApp: number;
}

const BATCH = 500;

/** Removes an app's builds past `keepBuildsPerApp` or older than `keepDays`; returns how many. */
export async function sweepBuilds(
  redis: Redis,
  keys: Keys,
  app: string,
  policy: RecordRetentionPolicy,
  now: number,
): Promise<number> {
  const entries = toEntries(await redis.zrange(keys.builds(app), '0', '-1', 'WITHSCORES'));
  const ids = expiredIds(
    entries,
    { keepDays: policy.keepDays, keepPerEnvironment: policy.keepBuildsPerApp },
    now,
  );
  let removed = 0;
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    const raw = await redis.mget(batch.map((id) => keys.build(id)));
    const multi = redis.multi();
    batch.forEach((id, j) => {
      const json = raw[j];
      const build = json ? (JSON.parse(json) as BuildRecord) : undefined;
      // Still queued or running: its worker writes on; it ages out once it has finished.
      if (build && !FINISHED_BUILD_STATUSES.includes(build.status)) return;
      if (build) removed++;
      multi.del(keys.build(id), keys.buildLog(id)).zrem(keys.builds(app), id);
    });
    await multi.exec();
  }
  return removed;
}

/**
 * Removes an app's revisions first seen more than `keepDays` ago that nothing uses any more
 * (see the module comment), with their image records; returns how many. Run after the rollout
 * sweep, so only kept rollout records protect a revision.
 */
export async function sweepRevisions(
  redis: Redis,
  keys: Keys,
  app: string,
  envs: readonly string[],
  keepDays: number,
  now: number,
): Promise<number> {
  const old = await redis.zrangebyscore(keys.revisions(app), '-inf', `(${now - keepDays * DAY_MS}`);
  if (old.length === 0) return 0;
  const inUse = await shasInUse(redis, keys, app, envs);
  const gone = old.filter((sha) => !inUse.has(sha));
  for (let i = 0; i < gone.length; i += BATCH) {
    const batch = gone.slice(i, i + BATCH);
    const multi = redis.multi();
    for (const sha of batch) {
      multi
        .del(keys.revision(app, sha), keys.revisionImage(app, sha))
        .zrem(keys.revisions(app), sha);
    }
    await multi.exec();
  }
  return gone.length;
}

async function shasInUse(
  redis: Redis,
  keys: Keys,
  app: string,
  envs: readonly string[],
): Promise<Set<string>> {
  const inUse = new Set<string>();
  const states = envs.length ? await redis.mget(envs.map((e) => keys.envState(app, e))) : [];
  for (const json of states) {
    if (!json) continue;
    const state = JSON.parse(json) as EnvState;
    for (const sha of [state.current?.sha, state.desired, state.pin?.sha]) {
      if (sha) inUse.add(sha);
    }
  }
  const ids = await redis.zrange(keys.appRollouts(app), '0', '-1');
  for (let i = 0; i < ids.length; i += BATCH) {
    const raw = await redis.mget(ids.slice(i, i + BATCH).map((id) => keys.rollout(id)));
    for (const json of raw) {
      if (!json) continue;
      const r = JSON.parse(json) as RolloutRecord;
      inUse.add(r.to.sha);
      if (r.from) inUse.add(r.from.sha);
    }
  }
  return inUse;
}
