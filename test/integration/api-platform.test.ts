import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiController, type ApiController } from '../support/api-controller.js';

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<string, { tags?: string[]; security?: unknown[]; summary?: string }>
  >;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
}

describe('API platform: docs, Origin check, rate limit, metrics', () => {
  let api: ApiController;

  beforeAll(async () => {
    api = await startApiController({
      config: [
        'api: { rateLimit: { max: 40, timeWindow: 1m }, publicUrl: "https://gantry.example.com" }',
      ],
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  async function post(path: string, headers: Record<string, string> = {}, token = api.deployer) {
    return fetch(`${api.controller.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  }

  it('publishes an OpenAPI 3 document of every API route, with the bearer scheme', async () => {
    const res = await api.get('/docs/json', null);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApi;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const expected: [string, string][] = [
      ['/api/apps', 'get'],
      ['/api/apps/{app}', 'get'],
      ['/api/apps/{app}/rollouts', 'get'],
      ['/api/rollouts/{id}', 'get'],
      ['/api/rollouts/{id}/pause', 'post'],
      ['/api/rollouts/{id}/resume', 'post'],
      ['/api/rollouts/{id}/abort', 'post'],
      ['/api/history', 'get'],
      ['/api/events', 'get'],
      ['/webhooks/{provider}', 'post'],
      ['/healthz', 'get'],
      ['/metrics', 'get'],
    ];
    for (const [path, method] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.tags?.length, `${method} ${path} has a tag`).toBeGreaterThan(0);
      expect(Boolean(op?.security), `${method} ${path} security`).toBe(path.startsWith('/api/'));
    }
    // Operations of the OPS helper, once they exist, are listed too.
    const ops = ['deploy', 'rollback', 'promote', 'lock', 'unlock', 'unpin'].filter(
      (o) => doc.paths[`/api/apps/{app}/${o}`],
    );
    for (const o of ops) expect(doc.paths[`/api/apps/{app}/${o}`]?.post).toBeDefined();
    // The UI's pages are not API endpoints.
    expect(
      Object.keys(doc.paths).every((p) => /^\/(api|webhooks)\/|^\/(healthz|metrics)$/.test(p)),
    ).toBe(true);
    expect((await api.get('/docs', null)).status).toBeLessThan(400);
  });

  it('refuses state-changing requests from a foreign Origin before looking at the token', async () => {
    const path = '/api/rollouts/r-abc-1/abort';
    const foreign = await post(path, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { code: string }).code).toBe('GANTRY_ERR_ORIGIN_REJECTED');
    // Even without a token: the Origin check comes first.
    const noToken = await fetch(`${api.controller.url}${path}`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    });
    expect(noToken.status).toBe(403);
    // No Origin (CLI, curl), the controller's own origin, or the configured public URL: passes
    // the check and reaches the route (this rollout does not exist).
    expect((await post(path)).status).toBe(404);
    expect((await post(path, { origin: api.controller.url })).status).toBe(404);
    expect((await post(path, { origin: 'https://gantry.example.com' })).status).toBe(404);
    // Reads are not state-changing.
    expect(
      (await api.get('/api/apps', api.viewer, { origin: 'https://evil.example' })).status,
    ).toBe(200);
  });

  it('limits requests per token with 429 and Retry-After; other tokens and webhooks are not affected', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 45; i++) {
      const res = await api.get('/api/apps', api.viewer);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(40);
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited!.json()) as { code: string }).code).toBe('GANTRY_ERR_RATE_LIMITED');
    expect((await api.get('/api/apps', api.deployer)).status).toBe(200);
    // Webhooks have no token and do not draw on the API's buckets (signatures guard them, and
    // failed ones have a budget of their own: api-rate-limits.test.ts).
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${api.controller.url}/webhooks/github`, {
        method: 'POST',
        body: '{}',
      });
      expect(res.status).toBe(401);
    }
    expect((await api.get('/healthz', null)).status).toBe(200);
  });

  it('serves Prometheus metrics without a token, queue depths included', async () => {
    const res = await api.get('/metrics', null);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE gantry_builds_total counter');
    expect(text).toContain('# TYPE gantry_rollout_duration_seconds histogram');
    expect(text).toMatch(/gantry_queue_jobs\{queue="builds",state="waiting"\} 0/);
  });
});
