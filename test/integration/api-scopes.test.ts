import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/api/auth.js';
import { startApiController, type ApiController } from '../support/api-controller.js';
import { seedHistory, type SeededHistory } from '../support/history-seed.js';
import { openSse } from '../support/sse-client.js';

/**
 * Tokens scoped to apps and environments, and the two permissions beyond a deployer's, through
 * the real server on the run's Redis. `shop` and `blog` each have staging (tracks branch
 * `staging`) and production (tracks `main`); seeded revisions are on `main`.
 */
describe('scoped tokens (apps, envs, permissions)', () => {
  let api: ApiController;
  let shop: SeededHistory;
  const secret = () => randomBytes(16).toString('hex');
  const tokens = {
    shopStaging: secret(),
    shopAll: secret(),
    shopAnyBranch: secret(),
    shopUnlock: secret(),
    shopViewer: secret(),
  };

  type Answer = { status: number; body: Record<string, unknown> };
  async function call(token: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${api.controller.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> } as Answer;
  }
  const errorOf = (a: Answer) => [a.status, a.body.code];

  beforeAll(async () => {
    const t = (name: string, role: string, token: string, extra: string) =>
      `{ name: ${name}, role: ${role}, hash: "${hashToken(token)}"${extra} }`;
    api = await startApiController({
      tokens: [
        t('shop-staging', 'deployer', tokens.shopStaging, ', apps: [shop], envs: [staging]'),
        t('shop-all', 'deployer', tokens.shopAll, ', apps: [shop]'),
        t(
          'shop-any',
          'deployer',
          tokens.shopAnyBranch,
          ', apps: [shop], permissions: [deploy:any-branch]',
        ),
        t('shop-unlock', 'deployer', tokens.shopUnlock, ', apps: [shop], permissions: [unlock]'),
        t('shop-viewer', 'viewer', tokens.shopViewer, ', apps: [shop], envs: [staging]'),
      ],
    });
    const { store, rollouts } = api.controller;
    const envs = ['staging', 'production'];
    shop = await seedHistory(store, rollouts, { app: 'shop', envs, count: 8 });
    await seedHistory(store, rollouts, { app: 'blog', envs, count: 4 });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers 404 for apps outside the scope, exactly as for unknown ones, whatever the route', async () => {
    const unknown = await call(tokens.shopAll, 'GET', '/api/apps/nope');
    for (const [method, path, body] of [
      ['GET', '/api/apps/blog', undefined],
      ['GET', '/api/apps/blog/rollouts', undefined],
      ['GET', '/api/history?app=blog', undefined],
      ['GET', '/api/apps/blog/timeline?env=staging', undefined],
      ['POST', '/api/apps/blog/deploy', { env: 'staging', ref: 'main' }],
      ['POST', '/api/apps/blog/lock', { env: 'staging', reason: 'mine now' }],
      ['PATCH', '/api/apps/blog/config', { env: 'staging', set: { A: '1' } }],
    ] as const) {
      const res = await call(tokens.shopAll, method, path, body);
      expect(errorOf(res), `${method} ${path}`).toEqual([404, 'GANTRY_ERR_NOT_FOUND']);
      expect(res.body.message).toBe('app blog is not known');
    }
    expect(unknown.body.message).toBe('app nope is not known');
    // A rollout found by id answers the same when its app is out of scope.
    const blogRollout = (await api.controller.rollouts.list('blog', 'staging'))[0]!;
    const byId = await call(tokens.shopAll, 'GET', `/api/rollouts/${blogRollout.id}`);
    expect(errorOf(byId)).toEqual([404, 'GANTRY_ERR_NOT_FOUND']);
    const abort = await call(tokens.shopAll, 'POST', `/api/rollouts/${blogRollout.id}/abort`);
    expect(errorOf(abort)).toEqual([404, 'GANTRY_ERR_NOT_FOUND']);
  });

  it('filters lists to the apps and environments of the token', async () => {
    const all = await call(api.viewer, 'GET', '/api/apps');
    expect((all.body.apps as { name: string }[]).map((a) => a.name).sort()).toEqual([
      'blog',
      'shop',
    ]);
    const scoped = await call(tokens.shopViewer, 'GET', '/api/apps');
    const apps = scoped.body.apps as { name: string; environments: object; status: object }[];
    expect(apps.map((a) => a.name)).toEqual(['shop']);
    expect(Object.keys(apps[0]!.environments)).toEqual(['staging']);
    // Nor the branch production tracks.
    expect((apps[0] as unknown as { branches: string[] }).branches).toEqual(['staging']);
    expect(Object.keys((apps[0]!.status as { envs: object }).envs)).toEqual(['staging']);

    const rollouts = await call(tokens.shopViewer, 'GET', '/api/apps/shop/rollouts');
    const envsSeen = new Set((rollouts.body.rollouts as { env: string }[]).map((r) => r.env));
    expect([...envsSeen]).toEqual(['staging']);
    expect((rollouts.body.environments as { env: string }[]).map((e) => e.env)).toEqual([
      'staging',
    ]);

    const history = await call(tokens.shopViewer, 'GET', '/api/history?app=shop');
    const historyEnvs = (history.body.rollouts as { env: string }[]).map((r) => r.env);
    expect(historyEnvs.length).toBeGreaterThan(0);
    expect(new Set(historyEnvs)).toEqual(new Set(['staging']));

    // Unnamed, the timeline is the only environment the token sees.
    const timeline = await call(tokens.shopViewer, 'GET', '/api/apps/shop/timeline');
    expect(timeline).toMatchObject({ status: 200, body: { env: 'staging' } });

    // The unscoped deployer still sees both environments.
    const full = await call(api.deployer, 'GET', '/api/apps/shop/rollouts');
    expect((full.body.environments as unknown[]).length).toBe(2);
  });

  it('streams only the events of its apps and environments', async () => {
    const sse = await openSse(`${api.controller.url}/api/events`, tokens.shopViewer);
    expect(sse.status).toBe(200);
    await sse.next(); // the stream is open once the first frame (or comment) arrives
    const bus = api.controller.rollouts.bus;
    const at = Date.now();
    await bus.publish(
      { type: 'env', at, app: 'blog', env: 'staging', kind: 'locked', text: 'blog staging' },
      { type: 'env', at, app: 'shop', env: 'production', kind: 'locked', text: 'shop production' },
      {
        type: 'build',
        at,
        app: 'blog',
        buildId: 'b-1',
        sha: 'a'.repeat(40),
        status: 'queued',
        text: 'blog build',
      },
      { type: 'env', at, app: 'shop', env: 'staging', kind: 'locked', text: 'shop staging' },
      {
        type: 'build',
        at,
        app: 'shop',
        buildId: 'b-2',
        sha: 'b'.repeat(40),
        status: 'queued',
        text: 'shop build',
      },
    );
    const frames = await sse.take(2);
    sse.close();
    expect(frames.map((f) => (JSON.parse(f.data!) as { text: string }).text)).toEqual([
      'shop staging',
      'shop build',
    ]);
    const other = await fetch(`${api.controller.url}/api/events?app=blog`, {
      headers: { authorization: `Bearer ${tokens.shopViewer}` },
    });
    expect(other.status).toBe(404);
  });

  it('refuses environments outside the scope with 403 GANTRY_ERR_ENV_FORBIDDEN, named or by default', async () => {
    const sha = shop.commits[0]!.sha;
    for (const [method, path, body] of [
      ['POST', '/api/apps/shop/deploy', { env: 'production', ref: sha }],
      ['POST', '/api/apps/shop/rollback', { env: 'production' }],
      ['POST', '/api/apps/shop/lock', { env: 'production', reason: 'freeze' }],
      ['POST', '/api/apps/shop/unpin', { env: 'production' }],
      ['POST', '/api/apps/shop/promote', { from: 'staging', to: 'production' }],
      ['POST', '/api/apps/shop/run', { env: 'production', command: ['true'] }],
      ['PATCH', '/api/apps/shop/config', { env: 'production', set: { A: '1' } }],
      ['GET', '/api/apps/shop/config?env=production', undefined],
      ['GET', '/api/apps/shop/rollouts?env=production', undefined],
    ] as const) {
      const res = await call(tokens.shopStaging, method, path, body);
      expect(errorOf(res), `${method} ${path}`).toEqual([403, 'GANTRY_ERR_ENV_FORBIDDEN']);
      expect(String(res.body.message)).toContain('production');
    }
    // Unnamed, an operation on an app with two environments asks for one, as it always does.
    const unnamed = await call(tokens.shopStaging, 'POST', '/api/apps/shop/lock', { reason: 'x' });
    expect(errorOf(unnamed)).toEqual([400, 'GANTRY_ERR_ENV_REQUIRED']);
    // A production rollout found by id: visible to nobody limited to staging.
    const prod = (await api.controller.rollouts.list('shop', 'production'))[0]!;
    const byId = await call(tokens.shopStaging, 'POST', `/api/rollouts/${prod.id}/pause`);
    expect(errorOf(byId)).toEqual([403, 'GANTRY_ERR_ENV_FORBIDDEN']);
    // Nothing moved in production.
    expect((await api.controller.rollouts.env('shop', 'production')).lock).toBeNull();
    // Its own environment works.
    const own = await call(tokens.shopStaging, 'POST', '/api/apps/shop/lock', {
      env: 'staging',
      reason: 'release train',
    });
    expect(own.status).toBe(200);
  });

  it('needs deploy:any-branch to deploy a revision of a branch the environment does not track', async () => {
    // Seeded revisions are on main: production tracks it, staging does not.
    const sha = shop.commits[1]!.sha;
    const refused = await call(tokens.shopAll, 'POST', '/api/apps/shop/deploy', {
      env: 'staging',
      ref: sha,
    });
    expect(errorOf(refused)).toEqual([403, 'GANTRY_ERR_PERMISSION_REQUIRED']);
    expect(refused.body.message).toMatch(
      /on branch main, but shop\/staging tracks staging; .*deploy:any-branch/,
    );
    const tracked = await call(tokens.shopAll, 'POST', '/api/apps/shop/deploy', {
      env: 'production',
      ref: sha,
    });
    expect(tracked.status).toBe(202);
    const allowed = await call(tokens.shopAnyBranch, 'POST', '/api/apps/shop/deploy', {
      env: 'staging',
      ref: sha,
    });
    expect(allowed).toMatchObject({ status: 202, body: { env: 'staging', sha } });
  });

  it('needs the unlock permission to lift a freeze', async () => {
    const lock = { env: 'production', reason: 'black friday' };
    expect((await call(tokens.shopAll, 'POST', '/api/apps/shop/lock', lock)).status).toBe(200);
    const refused = await call(tokens.shopAll, 'POST', '/api/apps/shop/unlock', {
      env: 'production',
    });
    expect(errorOf(refused)).toEqual([403, 'GANTRY_ERR_PERMISSION_REQUIRED']);
    expect((await api.controller.rollouts.env('shop', 'production')).lock).toMatchObject({
      reason: 'black friday',
    });
    const lifted = await call(tokens.shopUnlock, 'POST', '/api/apps/shop/unlock', {
      env: 'production',
    });
    expect(lifted.status).toBe(200);
    expect((await api.controller.rollouts.env('shop', 'production')).lock).toBeNull();
  });

  it('applies a reloaded scope on the next request', async () => {
    const live = api.controller.config;
    const before = live.current();
    const widened = before.tokens.map((t) =>
      t.name === 'shop-all' ? { ...t, apps: ['shop', 'blog'] } : t,
    );
    live.replace({ ...before, tokens: widened });
    try {
      expect((await call(tokens.shopAll, 'GET', '/api/apps/blog')).status).toBe(200);
    } finally {
      live.replace(before);
    }
    expect((await call(tokens.shopAll, 'GET', '/api/apps/blog')).status).toBe(404);
  });
});
