/** Where Redis memory goes under one key prefix: MEMORY USAGE of every key, by kind. */
import type { Redis } from 'ioredis';

/**
 * Bytes and key counts by kind (the key's segment after `prefix:`; BullMQ's keys under
 * `prefix:q:<queue>` are grouped as `q:<queue>`). Reads every key once: a bench tool only.
 */
export async function memoryByKind(
  redis: Redis,
  prefix: string,
): Promise<Map<string, { bytes: number; keys: number }>> {
  const out = new Map<string, { bytes: number; keys: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const parts = key.slice(prefix.length + 1).split(':');
      const kind = parts[0] === 'q' ? `q:${parts[1] ?? ''}` : (parts[0] ?? '');
      const bytes = Number(sizes[i]?.[1] ?? 0);
      const sum = out.get(kind) ?? { bytes: 0, keys: 0 };
      out.set(kind, { bytes: sum.bytes + bytes, keys: sum.keys + 1 });
    });
  } while (cursor !== '0');
  return out;
}

/** Total bytes of the kinds named. */
export function bytesOf(
  byKind: ReadonlyMap<string, { bytes: number }>,
  kinds: readonly string[],
): number {
  return kinds.reduce((a, k) => a + (byKind.get(k)?.bytes ?? 0), 0);
}
