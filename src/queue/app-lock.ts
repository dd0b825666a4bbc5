import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * A lease on one key (one build per app at a time), shared by every controller process.
 * It expires on its own if its holder dies, and is renewed while the holder works.
 */
export class Lease {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease, or returns undefined when someone else holds it. */
  static async acquire(
    redis: Redis,
    key: string,
    owner: string,
    ttlMs = 60_000,
  ): Promise<Lease | undefined> {
    const ok = await redis.set(key, owner, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') {
      // Re-entrant for the same owner: a redelivered job may already hold its own lease.
      if ((await redis.get(key)) !== owner) return undefined;
    }
    const lease = new Lease(redis, key, owner, ttlMs);
    lease.timer = setInterval(() => {
      void redis.eval(RENEW, 1, key, owner, String(ttlMs)).catch(() => undefined);
    }, ttlMs / 3);
    return lease;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(RELEASE, 1, this.key, this.owner);
  }
}
