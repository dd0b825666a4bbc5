import type { Redis } from 'ioredis';
import { EventBus } from '../events/bus.js';
import type { Keys } from './keys.js';
import type { EnvState, RolloutEventRecord, RolloutRecord } from './records.js';

const EVENTS_KEPT = 500;

// KEYS: record, environment index, lease; ARGV: record JSON, score, id, lease owner.
const PUT_IF_HELD = `if redis.call('GET', KEYS[3]) ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1`;

/** A lease a write is made conditional on: written only while `key` still holds `owner`. */
export interface LeaseRef {
  readonly key: string;
  readonly owner: string;
}

/** Redis-backed rollout records, environment states and rollout intents. */
export class RolloutStore {
  /** Every rollout event also goes to the controller's one event stream. */
  readonly bus: EventBus;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    this.bus = new EventBus(redis, keys);
  }

  private async getJson<T>(key: string): Promise<T | undefined> {
    const raw = await this.redis.get(key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  /**
   * Writes the record; with a `lease`, only while the lease is still held (atomically), and
   * returns false when it is not: a holder that stalled past its lease must not overwrite the
   * state of whoever took over.
   */
  async put(rec: RolloutRecord, lease?: LeaseRef): Promise<boolean> {
    const key = this.keys.rollout(rec.id);
    const index = this.keys.rollouts(rec.app, rec.env);
    const json = JSON.stringify(rec);
    const score = Date.parse(rec.createdAt);
    if (lease) {
      const args = [json, String(score), rec.id, lease.owner];
      return (await this.redis.eval(PUT_IF_HELD, 3, key, index, lease.key, ...args)) === 1;
    }
    await this.redis.multi().set(key, json).zadd(index, score, rec.id).exec();
    return true;
  }

  get(id: string): Promise<RolloutRecord | undefined> {
    return this.getJson<RolloutRecord>(this.keys.rollout(id));
  }

  /** Newest first. */
  async list(app: string, env: string, limit = 50): Promise<RolloutRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.rollouts(app, env), 0, limit - 1);
    const recs = await Promise.all(ids.map((id) => this.get(id)));
    return recs.filter((r): r is RolloutRecord => r !== undefined);
  }

  /** Appends to the rollout's own list and to the event stream, in one transaction. */
  async appendEvents(
    rollout: { id: string; app: string; env: string },
    events: RolloutEventRecord[],
  ): Promise<void> {
    if (events.length === 0) return;
    const { id, app, env } = rollout;
    const multi = this.redis
      .multi()
      .rpush(this.keys.rolloutEvents(id), ...events.map((e) => JSON.stringify(e)))
      .ltrim(this.keys.rolloutEvents(id), -EVENTS_KEPT, -1);
    this.bus.addTo(
      multi,
      events.map((e) => ({ type: 'rollout', rolloutId: id, app, env, ...e })),
    );
    await multi.exec();
  }

  async events(id: string, from = 0): Promise<RolloutEventRecord[]> {
    const raw = await this.redis.lrange(this.keys.rolloutEvents(id), from, -1);
    return raw.map((r) => JSON.parse(r) as RolloutEventRecord);
  }

  async pushIntent(id: string, intent: string): Promise<void> {
    await this.redis.rpush(this.keys.rolloutIntents(id), intent);
  }

  /** Takes every waiting intent at once, so each is applied exactly once. */
  async takeIntents(id: string): Promise<string[]> {
    const [[, items] = [null, []]] = ((await this.redis
      .multi()
      .lrange(this.keys.rolloutIntents(id), 0, -1)
      .del(this.keys.rolloutIntents(id))
      .exec()) ?? []) as [Error | null, string[]][];
    return items;
  }

  async env(app: string, env: string): Promise<EnvState> {
    const [state, desired] = await Promise.all([
      this.getJson<EnvState>(this.keys.envState(app, env)),
      this.redis.get(this.keys.envDesired(app, env)),
    ]);
    return { app, env, current: null, route: null, ...state, desired };
  }

  /** Only the rollout holding the environment's lease writes this. */
  async updateEnv(app: string, env: string, patch: Partial<Omit<EnvState, 'desired'>>) {
    const { desired: _d, ...rest } = { ...(await this.env(app, env)), ...patch };
    await this.redis.set(this.keys.envState(app, env), JSON.stringify(rest));
  }

  async setDesired(app: string, env: string, sha: string): Promise<void> {
    await this.redis.set(this.keys.envDesired(app, env), sha);
  }

  async markFailed(app: string, env: string, sha: string): Promise<void> {
    await this.redis.sadd(this.keys.failedRevisions(app, env), sha);
  }

  async hasFailed(app: string, env: string, sha: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.failedRevisions(app, env), sha)) === 1;
  }
}
