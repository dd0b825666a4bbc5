/** Everything a fixture's controller wrote to Redis, as text: what secret audits search. */
import type { Fixture } from './controller-fixture.js';

/** Every value under the fixture's Redis prefix, as text, whatever its type. */
export async function dumpRedis(f: Fixture): Promise<string> {
  const redis = f.controller.redis;
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${f.prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      out.push(key);
      if (type === 'string') out.push((await redis.get(key)) ?? '');
      else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') out.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
      else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  // BullMQ's keys (job data is stored in clear) live under their own prefix.
  cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${f.prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      if (type === 'string') out.push((await redis.get(key)) ?? '');
    }
  } while (cursor !== '0');
  return out.join('\n');
}
