import type { Redis } from 'ioredis';
import { EventBus } from '../events/bus.js';
import type { Keys } from './keys.js';
import type {
  EnvEventRecord,
  EnvLock,
  EnvPin,
  EnvState,
  EnvStatus,
  RollbackAsked,
  RolloutEventRecord,
  RolloutRecord,
} from './records.js';

const EVENTS_KEPT = 500;
const ENV_EVENTS_KEPT = 200;

// KEYS: record, lease, then the indexes; ARGV: record JSON, score, id, lease owner.
const PUT_IF_HELD = `if redis.call('GET', KEYS[2]) ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
for i = 3, #KEYS do redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3]) end
return 1`;

/** The lock as it stands at `now`: an expired lock is no lock (expiry is honoured lazily). */
export function activeLock(lock: EnvLock | null, now: number): EnvLock | null {
  if (lock === null) return null;
  if (lock.until !== undefined && Date.parse(lock.until) <= now) return null;
  return lock;
}

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
    const indexes = this.indexesOf(rec);
    const json = JSON.stringify(rec);
    const score = Date.parse(rec.createdAt);
    if (lease) {
      const args = [json, String(score), rec.id, lease.owner];
      const n = 2 + indexes.length;
      return (await this.redis.eval(PUT_IF_HELD, n, key, lease.key, ...indexes, ...args)) === 1;
    }
    const multi = this.redis.multi().set(key, json);
    for (const index of indexes) multi.zadd(index, score, rec.id);
    await multi.exec();
    return true;
  }

  /**
   * The sorted sets a record is listed in (by environment, by app, by commit, by PR), all
   * scored by creation time. Re-adding on every write is a no-op, so no "first write" flag.
   */
  indexesOf(rec: Pick<RolloutRecord, 'app' | 'env' | 'to' | 'pr'>): string[] {
    const { app } = rec;
    return [
      this.keys.rollouts(app, rec.env),
      this.keys.appRollouts(app),
      this.keys.rolloutsBySha(app, rec.to.sha),
      ...(rec.pr ? [this.keys.rolloutsByPr(app, rec.pr.number)] : []),
    ];
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

  /**
   * Every waiting intent, oldest first, left in place: the loop acknowledges them with
   * {@link ackIntents} only once the decision that applies them is persisted, so a crash in
   * between leaves them for the next decision instead of losing an abort the API answered with 202.
   */
  async peekIntents(id: string): Promise<string[]> {
    return this.redis.lrange(this.keys.rolloutIntents(id), 0, -1);
  }

  /**
   * Removes the `count` oldest intents, those a persisted decision applied. Intents pushed since
   * the peek sit after them and stay for the next decision.
   */
  async ackIntents(id: string, count: number): Promise<void> {
    if (count <= 0) return;
    await this.redis.ltrim(this.keys.rolloutIntents(id), count, -1);
  }

  async env(app: string, env: string, now = Date.now()): Promise<EnvState> {
    const [state, desired, lock, pin] = await Promise.all([
      this.getJson<EnvState>(this.keys.envState(app, env)),
      this.redis.get(this.keys.envDesired(app, env)),
      this.getJson<EnvLock>(this.keys.envLock(app, env)),
      this.getJson<EnvPin>(this.keys.envPin(app, env)),
    ]);
    return {
      app,
      env,
      current: null,
      route: null,
      ...state,
      desired,
      lock: activeLock(lock ?? null, now),
      pin: pin ?? null,
    };
  }

  /** Only the rollout holding the environment's lease writes this (lock and pin have their own keys). */
  async updateEnv(
    app: string,
    env: string,
    patch: Partial<Omit<EnvState, 'desired' | 'lock' | 'pin'>>,
  ) {
    const { desired: _d, lock: _l, pin: _p, ...rest } = { ...(await this.env(app, env)), ...patch };
    const multi = this.redis.multi().set(this.keys.envState(app, env), JSON.stringify(rest));
    // The reconciler visits every environment that has something to hold.
    if (rest.current) multi.sadd(this.keys.deployedEnvs(), envMember(app, env));
    await multi.exec();
  }

  /** Every environment that ever had a current revision (and was not pruned). */
  async deployedEnvs(): Promise<{ app: string; env: string }[]> {
    const members = await this.redis.smembers(this.keys.deployedEnvs());
    return members
      .map((m) => m.split('\n'))
      .filter((p): p is [string, string] => p.length === 2)
      .map(([app, env]) => ({ app, env }))
      .sort((a, b) => a.app.localeCompare(b.app) || a.env.localeCompare(b.env));
  }

  /** Forgets an environment entirely (after a prune): state, status, desired, lock, pin. */
  async forgetEnv(app: string, env: string): Promise<void> {
    await this.redis
      .multi()
      .srem(this.keys.deployedEnvs(), envMember(app, env))
      .del(
        this.keys.envState(app, env),
        this.keys.envStatus(app, env),
        this.keys.envDesired(app, env),
        this.keys.envLock(app, env),
        this.keys.envPin(app, env),
        this.keys.envRollbackAsked(app, env),
      )
      .exec();
  }

  /** The status the reconciler last wrote, if any. */
  status(app: string, env: string): Promise<EnvStatus | undefined> {
    return this.getJson<EnvStatus>(this.keys.envStatus(app, env));
  }

  async putStatus(status: EnvStatus): Promise<void> {
    await this.redis.set(this.keys.envStatus(status.app, status.env), JSON.stringify(status));
  }

  /** Appends to the environment's timeline and to the event stream (type `env`), together. */
  async appendEnvEvents(app: string, env: string, events: EnvEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    const key = this.keys.envEvents(app, env);
    const multi = this.redis
      .multi()
      .rpush(key, ...events.map((e) => JSON.stringify(e)))
      .ltrim(key, -ENV_EVENTS_KEPT, -1);
    this.bus.addTo(
      multi,
      events.map((e) => ({ type: 'env', app, env, ...e })),
    );
    await multi.exec();
  }

  /** The environment's timeline outside rollouts, newest last. */
  async envEvents(app: string, env: string, limit = ENV_EVENTS_KEPT): Promise<EnvEventRecord[]> {
    const raw = await this.redis.lrange(this.keys.envEvents(app, env), -limit, -1);
    return raw.map((r) => JSON.parse(r) as EnvEventRecord);
  }

  /** Freezes deploys to an environment (replaces any lock). */
  async setLock(app: string, env: string, lock: EnvLock): Promise<void> {
    await this.redis.set(this.keys.envLock(app, env), JSON.stringify(lock));
  }

  /** Lifts the freeze; true when there was a lock to lift. */
  async clearLock(app: string, env: string): Promise<boolean> {
    return (await this.redis.del(this.keys.envLock(app, env))) === 1;
  }

  async setPin(app: string, env: string, pin: EnvPin): Promise<void> {
    await this.redis.set(this.keys.envPin(app, env), JSON.stringify(pin));
  }

  /** Unpins; true when there was a pin. */
  async clearPin(app: string, env: string): Promise<boolean> {
    return (await this.redis.del(this.keys.envPin(app, env))) === 1;
  }

  /** Notes the newest rollback asked for an environment (replaces an older one). */
  async setRollbackAsked(app: string, env: string, asked: RollbackAsked): Promise<void> {
    await this.redis.set(this.keys.envRollbackAsked(app, env), JSON.stringify(asked));
  }

  async rollbackAsked(app: string, env: string): Promise<RollbackAsked | null> {
    return (await this.getJson<RollbackAsked>(this.keys.envRollbackAsked(app, env))) ?? null;
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

function envMember(app: string, env: string): string {
  return `${app}\n${env}`;
}
