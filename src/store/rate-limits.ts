import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** At most `max` requests per `windowMs`, with bursts of up to `max`. */
export interface Limit {
  max: number;
  windowMs: number;
}

/** What a bucket said: whether the request may go, and when to come back if not. */
export interface Verdict {
  allowed: boolean;
  /** Requests still allowed at once after this one. */
  remaining: number;
  /** 0 when allowed; otherwise how long until one more request would be. */
  retryAfterMs: number;
}

/**
 * GCRA (a token bucket kept as one number): the key holds the bucket's "theoretical arrival
 * time" in ms and expires with it, so an idle caller costs nothing. A request is allowed when
 * the new arrival time is at most one window ahead of now. The clock is Redis's own (TIME), so
 * every controller sharing the Redis shares one clock as well as the bucket.
 *
 * KEYS[1] bucket; ARGV[1] ms per request (window / max); ARGV[2] window ms; ARGV[3] cost (0: look
 * without taking). Returns {allowed 0|1, remaining, retryAfterMs}.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = math.max(tonumber(stored), now) end
local next = tat + interval * math.max(cost, 1)
if next - window > now then
  return {0, 0, math.ceil(next - window - now)}
end
if cost > 0 then
  redis.call('SET', KEYS[1], tostring(next), 'PX', math.ceil(next - now))
end
return {1, math.floor((window - (next - now)) / interval), 0}
`;

/** Rate-limit buckets in Redis: shared by every controller, surviving restarts, never evicted. */
export class RateLimits {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Takes one request from `who`'s bucket of `scope`, unless it is empty. */
  take(scope: string, who: string, limit: Limit): Promise<Verdict> {
    return this.run(scope, who, limit, 1);
  }

  /** Whether `who` could make one more request of `scope` now, taking nothing. */
  peek(scope: string, who: string, limit: Limit): Promise<Verdict> {
    return this.run(scope, who, limit, 0);
  }

  private async run(scope: string, who: string, limit: Limit, cost: number): Promise<Verdict> {
    const interval = limit.windowMs / Math.max(1, limit.max);
    const [allowed, remaining, retryAfterMs] = (await this.redis.eval(
      TAKE,
      1,
      this.keys.rateLimit(scope, who),
      String(interval),
      String(limit.windowMs),
      String(cost),
    )) as [number, number, number];
    return { allowed: allowed === 1, remaining: Math.max(0, remaining), retryAfterMs };
  }
}
