/**
 * History retention: rollout records older than `keepDays`, or beyond the newest
 * `keepPerEnvironment` of their environment, are removed with their events and index entries.
 * An environment's current rollout is never removed (it says what serves), nor is one that has
 * not ended (it is still being written). Builds and revisions follow (record-retention.ts), and
 * removed apps are forgotten whole (app-retention.ts).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../store/keys.js';
import type { AppRecord, EnvState, RolloutRecord } from '../store/records.js';
import type { RolloutStore } from '../store/rollouts.js';
import { DAY_MS, expiredIds, toEntries } from './expiry.js';
import { sweepRemovedApps } from './app-retention.js';
import { sweepBuilds, sweepRevisions } from './record-retention.js';

export { expiredIds, type IndexEntry } from './expiry.js';

const BATCH = 500;

export interface RetentionPolicy {
  keepDays: number;
  keepPerEnvironment: number;
  /** Build records per app (record-retention.ts); absent: builds are not swept. */
  keepBuildsPerApp?: number | undefined;
}

/** Removes expired history from Redis. Idempotent: two controllers sweeping at once is harmless. */
export class RetentionSweeper {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly rollouts: RolloutStore,
    private readonly policy: RetentionPolicy,
    /** The repos the controller follows now; absent: removed apps are not looked for. */
    private readonly followedRepos?: () => readonly string[],
  ) {}

  /** Sweeps every known app; returns how many rollout records were removed. */
  async sweep(now = Date.now()): Promise<number> {
    const apps = await this.redis.smembers(this.keys.apps());
    let removed = 0;
    for (const app of apps) removed += await this.sweepApp(app, now);
    return removed;
  }

  /**
   * Sweeps every known app's builds and revisions (record-retention.ts); run after `sweep`, so
   * only kept rollout records protect a revision. Returns how many records were removed.
   */
  async sweepRecords(now = Date.now()): Promise<number> {
    const { keepDays, keepBuildsPerApp } = this.policy;
    let removed = 0;
    if (this.followedRepos) {
      const followed = new Set(this.followedRepos());
      removed += (await sweepRemovedApps(this.redis, this.keys, followed, keepDays, now)).length;
    }
    for (const app of await this.redis.smembers(this.keys.apps())) {
      if (keepBuildsPerApp !== undefined) {
        removed += await sweepBuilds(
          this.redis,
          this.keys,
          app,
          { keepDays, keepBuildsPerApp },
          now,
        );
      }
      const appJson = await this.redis.get(this.keys.app(app));
      const envs = Object.keys(appJson ? (JSON.parse(appJson) as AppRecord).environments : {});
      removed += await sweepRevisions(this.redis, this.keys, app, envs, keepDays, now);
    }
    return removed;
  }

  /** Sweeps one app's history. */
  async sweepApp(app: string, now = Date.now()): Promise<number> {
    const appJson = await this.redis.get(this.keys.app(app));
    const envs = Object.keys(appJson ? (JSON.parse(appJson) as AppRecord).environments : {});
    const states = envs.length
      ? await this.redis.mget(envs.map((e) => this.keys.envState(app, e)))
      : [];
    const protect = new Set(
      states
        .map((s) => (s ? (JSON.parse(s) as EnvState).current?.rolloutId : undefined))
        .filter((id): id is string => id !== undefined),
    );
    const candidates = new Set<string>();
    for (const env of envs) {
      const entries = toEntries(
        await this.redis.zrange(this.keys.rollouts(app, env), '0', '-1', 'WITHSCORES'),
      );
      for (const id of expiredIds(entries, this.policy, now, protect)) candidates.add(id);
    }
    // Environments dropped from the spec still age out, through the app-wide index.
    const old = await this.redis.zrangebyscore(
      this.keys.appRollouts(app),
      '-inf',
      `(${now - this.policy.keepDays * DAY_MS}`,
    );
    for (const id of old) if (!protect.has(id)) candidates.add(id);

    let removed = 0;
    const ids = [...candidates];
    for (let i = 0; i < ids.length; i += BATCH) {
      removed += await this.remove(app, envs, ids.slice(i, i + BATCH));
    }
    return removed;
  }

  private async remove(app: string, envs: string[], ids: string[]): Promise<number> {
    const raw = await this.redis.mget(ids.map((id) => this.keys.rollout(id)));
    const multi = this.redis.multi();
    let n = 0;
    ids.forEach((id, i) => {
      const json = raw[i];
      if (!json) {
        // The record is gone already: only dangling index entries are left.
        multi.zrem(this.keys.appRollouts(app), id);
        for (const env of envs) multi.zrem(this.keys.rollouts(app, env), id);
        return;
      }
      const rec = JSON.parse(json) as RolloutRecord;
      if (!rec.outcome) return;
      n++;
      multi.del(this.keys.rollout(id), this.keys.rolloutEvents(id), this.keys.rolloutIntents(id));
      for (const index of this.rollouts.indexesOf(rec)) multi.zrem(index, id);
    });
    await multi.exec();
    return n;
  }
}

/** Sweeps now (soon after start) and then every `everyMs`, until stopped. Failures only log. */
export function startRetention(
  sweeper: RetentionSweeper,
  log: Logger,
  everyMs = 60 * 60 * 1000,
): () => void {
  const run = () => {
    sweeper
      .sweep()
      .then(async (rollouts) => {
        const records = await sweeper.sweepRecords();
        if (rollouts + records > 0) {
          log.info({ rollouts, records }, 'history retention removed old records');
        }
      })
      .catch((e: unknown) => log.warn({ err: String(e) }, 'history retention sweep failed'));
  };
  const first = setTimeout(run, 5_000);
  const timer = setInterval(run, everyMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
