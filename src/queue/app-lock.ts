import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/** Thrown by `Lease.check()` once the holder may no longer act: the lease ran out or was taken. */
export class LeaseLost extends Error {
  constructor(readonly key: string) {
    super(`lease ${key} is no longer held by this process`);
    this.name = 'LeaseLost';
  }
}

/**
 * A lease on one key (one build per app at a time), shared by every controller process.
 * It expires on its own if its holder dies, and is renewed while the holder works.
 *
 * A holder that stalls (a frozen process, a long pause) can wake up after its lease expired and
 * another process took over. So the holder keeps its own conservative deadline — when the last
 * renewal it *sent* would run out — and `check()` before acting: past that deadline, or once a
 * renewal found someone else's name on the key, it must stop.
 */
export class Lease {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  private constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly owner: string,
    private readonly ttlMs: number,
    private validUntil: number,
  ) {}

  /** Takes the lease, or returns undefined when someone else holds it. */
  static async acquire(
    redis: Redis,
    key: string,
    owner: string,
    ttlMs = 60_000,
  ): Promise<Lease | undefined> {
    const sentAt = Date.now();
    const ok = await redis.set(key, owner, 'PX', ttlMs, 'NX');
    const lease = new Lease(redis, key, owner, ttlMs, sentAt + ttlMs);
    if (ok !== 'OK') {
      // Re-entrant for the same owner: a redelivered job may already hold its own lease.
      if ((await redis.get(key)) !== owner) return undefined;
      lease.validUntil = 0;
      await lease.renew();
      if (!lease.held()) return undefined;
    }
    lease.timer = setInterval(() => void lease.renew(), ttlMs / 3);
    return lease;
  }

  /** Whether this holder may still act: not past its deadline, and not found taken. */
  held(): boolean {
    return !this.lost && Date.now() < this.validUntil;
  }

  /** Throws LeaseLost unless `held()`. */
  check(): void {
    if (!this.held()) throw new LeaseLost(this.key);
  }

  /** Records that a write conditional on the lease found it taken, and throws LeaseLost. */
  lose(): never {
    this.lost = true;
    throw new LeaseLost(this.key);
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(RELEASE, 1, this.key, this.owner);
  }

  private async renew(): Promise<void> {
    // The key's new expiry counts from when Redis runs the script, which is after this.
    const sentAt = Date.now();
    try {
      const renewed = await this.redis.eval(RENEW, 1, this.key, this.owner, String(this.ttlMs));
      if (renewed === 1) this.validUntil = Math.max(this.validUntil, sentAt + this.ttlMs);
      else this.lost = true;
    } catch {
      // Redis unreachable: the lease simply runs out at its deadline unless a later renewal lands.
    }
  }
}
