import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE } from '../../src/demo/services.js';
import { testEnv } from '../support/env.js';

const run = promisify(execFile);

describe('local services of the test run', () => {
  const env = testEnv();
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(env.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('Redis answers PING with AOF on and no eviction (what BullMQ needs)', async () => {
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
    expect(env.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  });

  it('the registry answers /v2/ on 127.0.0.1', async () => {
    expect(env.registry).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://${env.registry}/v2/`);
    expect(res.status).toBe(200);
  });

  it('the base image exists and a container from it runs', async () => {
    await run('docker', ['image', 'inspect', BASE_IMAGE]);
    const { stdout } = await run('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      BASE_IMAGE,
      'echo',
      'ok',
    ]);
    expect(stdout.trim()).toBe('ok');
  });
});
