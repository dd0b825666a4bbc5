import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiController, type ApiController } from '../support/api-controller.js';
import { uniqueName } from '../support/env.js';

/** Rate limits that hold (issue 14, item 2) and authentication before parsing (item 7). */
describe('API guard: rate limits in Redis, decided by the matched route, auth before parsing', () => {
  const started: ApiController[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.close()));
  });
  // Buckets refill steadily (one request per window / max), so the tests use a window long
  // enough that nothing refills while they run.
  async function start(opts: { prefix?: string; config?: string[] } = {}) {
    const api = await startApiController({
      ...opts,
      config: opts.config ?? ['api: { rateLimit: { max: 10, timeWindow: 1h } }'],
    });
    started.push(api);
    return api;
  }
  function get(app: FastifyInstance, url: string, token?: string, remoteAddress = '10.1.1.1') {
    return app.inject({
      method: 'GET',
      url,
      remoteAddress,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  }
  async function exhaust(app: FastifyInstance, token: string): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await get(app, '/api/apps', token)).statusCode);
    return statuses;
  }

  it('junk tokens cannot reset an exhausted bucket, even 5,001 of them from 5,001 addresses', async () => {
    const api = await start();
    const app = api.controller.app;
    const statuses = await exhaust(app, api.viewer);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);

    // Junk tokens from one address share that address's bucket: 401 until it is spent, then 429.
    const junk: number[] = [];
    for (let i = 0; i < 15; i++) {
      junk.push((await get(app, '/api/apps', `junk-${i}`, '10.9.9.9')).statusCode);
    }
    expect(junk.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(junk.slice(10).every((s) => s === 429)).toBe(true);

    // The old in-memory LRU forgot the oldest of 5,000 buckets; Redis forgets none.
    for (let i = 0; i < 5001; i++) {
      const addr = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      await get(app, '/api/apps', `junk-${i}`, addr);
    }
    const after = await get(app, '/api/apps', api.viewer);
    expect(after.statusCode).toBe(429);
    expect(Number(after.headers['retry-after'])).toBeGreaterThan(0);
    expect(after.json()).toMatchObject({ code: 'GANTRY_ERR_RATE_LIMITED' });
    expect(after.json<{ message: string }>().message).toMatch(/token tester/);
    // Another token has its own bucket.
    expect((await get(app, '/api/apps', api.deployer)).statusCode).toBe(200);
  });

  it('a second controller on the same Redis shares the bucket, which survives a restart', async () => {
    const prefix = uniqueName('rl');
    const one = await start({ prefix });
    const two = await start({ prefix });
    // Different secrets, same token name (`tester`): buckets follow the name, not the header.
    expect(two.viewer).not.toBe(one.viewer);
    await exhaust(one.controller.app, one.viewer);
    expect((await get(two.controller.app, '/api/apps', two.viewer)).statusCode).toBe(429);
    expect((await two.get('/api/apps', two.viewer)).status).toBe(429);
    await one.restart();
    expect((await get(one.controller.app, '/api/apps', one.viewer)).statusCode).toBe(429);
  });

  it('/%61pi/... is rate-limited and Origin-checked like /api/...', async () => {
    const api = await start({
      config: [
        'api: { rateLimit: { max: 10, timeWindow: 1h }, publicUrl: "https://gantry.example.com" }',
      ],
    });
    const app = api.controller.app;
    // The encoded path routes to the same handler …
    expect((await get(app, '/%61pi/apps', api.viewer)).statusCode).toBe(200);
    // … so a foreign page cannot use it to skip the Origin check (token or not),
    for (const headers of [{ authorization: `Bearer ${api.deployer}` }, {}]) {
      const res = await app.inject({
        method: 'POST',
        url: '/%61pi/rollouts/r-abc-1/abort',
        headers: { ...headers, origin: 'https://evil.example' },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'GANTRY_ERR_ORIGIN_REJECTED' });
    }
    // … nor to skip authentication or the rate limit, which counts both spellings together.
    expect((await get(app, '/%61pi/apps')).statusCode).toBe(401);
    const mixed: number[] = [];
    for (let i = 0; i < 6; i++) {
      mixed.push((await get(app, '/api/apps', api.viewer)).statusCode);
      mixed.push((await get(app, '/%61pi/apps', api.viewer)).statusCode);
    }
    expect(mixed.filter((s) => s === 200)).toHaveLength(9);
    expect(mixed.slice(-3)).toEqual([429, 429, 429]);
    // The same over the network, where the raw URL really is `/%61pi/apps`.
    expect((await api.get('/%61pi/apps', api.viewer)).status).toBe(429);
  });

  it('failed webhook signatures from one address get 429 after the limit, before any HMAC', async () => {
    const api = await start({
      config: ['webhooks: { failedSignatures: { max: 5, timeWindow: 1h } }'],
    });
    const app = api.controller.app;
    const forged = (remoteAddress: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/github',
        remoteAddress,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
        },
        payload: JSON.stringify({ repository: { full_name: 'acme/app', clone_url: 'x' } }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await forged('10.2.2.2')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const limited = await forged('10.2.2.2');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ code: 'GANTRY_ERR_RATE_LIMITED' });
    // Another address has its own budget; the API's buckets are untouched.
    expect((await forged('10.3.3.3')).statusCode).toBe(401);
    expect((await get(app, '/api/apps', api.viewer, '10.2.2.2')).statusCode).toBe(200);
  });

  it('answers an unauthenticated caller 401 before parsing its body or query', async () => {
    const api = await start({ config: ['api: { bodyLimitBytes: 65536 }'] });
    const app = api.controller.app;
    const post = (url: string, payload: string, token?: string) =>
      app.inject({
        method: 'POST',
        url,
        payload,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
    const huge = 'x'.repeat(1 << 20);
    const invalid = '{"ref": ';
    for (const url of ['/api/apps/shop/deploy', '/api/rollouts/r-abc-1/abort']) {
      for (const [what, body] of [
        ['huge', huge],
        ['invalid', invalid],
      ] as const) {
        const res = await post(url, body);
        expect(res.statusCode, `${what} body to ${url}`).toBe(401);
        expect(res.json()).toMatchObject({ code: 'GANTRY_ERR_UNAUTHORIZED' });
      }
    }
    // An invalid query, too; and a token without the role is refused (403) before parsing.
    expect((await get(app, '/api/events?after=nope')).statusCode).toBe(401);
    expect((await get(app, '/api/history?limit=-1')).statusCode).toBe(401);
    expect((await post('/api/apps/shop/deploy', huge, api.viewer)).statusCode).toBe(403);
    // With the right token, parsing happens and its errors are the caller's to see.
    expect((await post('/api/apps/shop/deploy', huge, api.deployer)).statusCode).toBe(413);
    expect((await post('/api/apps/shop/deploy', invalid, api.deployer)).statusCode).toBe(400);
  });
});
