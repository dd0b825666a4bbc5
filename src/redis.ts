import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { GantryError } from './errors.js';

/**
 * The controller's own Redis connection. No offline queue: when Redis is away, calls fail at
 * once (a webhook answers 503) instead of waiting in memory where a crash would lose them.
 */
export async function connectRedis(url: string, timeoutMs = 10_000): Promise<Redis> {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  redis.on('error', () => undefined); // reconnects on its own; failures surface on calls
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs)),
    ]);
  } catch (cause) {
    redis.disconnect();
    throw new GantryError(
      'GANTRY_ERR_QUEUE_UNAVAILABLE',
      `cannot connect to Redis at ${redactRedisUrl(url)}`,
      { cause },
    );
  }
  return redis;
}

function redactRedisUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * BullMQ needs AOF persistence (or queued work is lost on a Redis restart) and noeviction (or
 * Redis silently drops job keys under memory pressure). Say so plainly at start.
 */
export async function checkRedisDurability(redis: Redis, log: Logger): Promise<string[]> {
  const problems: string[] = [];
  try {
    const [, aof] = (await redis.config('GET', 'appendonly')) as string[];
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    if (aof !== 'yes')
      problems.push(
        'Redis has AOF persistence off (appendonly no): queued work is lost if Redis restarts; set appendonly yes',
      );
    if (policy !== 'noeviction')
      problems.push(
        `Redis maxmemory-policy is ${policy}: it may evict queue keys; set maxmemory-policy noeviction`,
      );
  } catch {
    problems.push(
      'cannot read Redis CONFIG (managed Redis?); make sure appendonly is yes and maxmemory-policy is noeviction',
    );
  }
  for (const p of problems) log.warn(p);
  return problems;
}
