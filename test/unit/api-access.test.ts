import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denial, holds, visibleEnvs, type Need, type Principal } from '../../src/api/access.js';
import { hashToken } from '../../src/api/auth.js';
import { matchesFilter } from '../../src/api/events.js';
import { diffConfig } from '../../src/config/config-diff.js';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { redactConfig } from '../../src/config/redact.js';
import type { StoredEvent } from '../../src/events/bus.js';

const shopStaging: Principal = {
  name: 'shop-staging',
  role: 'deployer',
  apps: ['shop'],
  envs: ['staging'],
};
const shopAll: Principal = { name: 'shop', role: 'deployer', apps: ['shop'] };
const unlocker: Principal = { name: 'oncall', role: 'deployer', permissions: ['unlock'] };
const viewer: Principal = { name: 'tester', role: 'viewer' };
const admin: Principal = { name: 'root', role: 'admin' };

describe('access decisions', () => {
  it.each<[string, Principal, Need, string | undefined]>([
    [
      'an unscoped deployer deploys anywhere',
      shopAll,
      { role: 'deployer', app: 'shop' },
      undefined,
    ],
    ['another app is unknown, not forbidden', shopAll, { app: 'blog' }, 'GANTRY_ERR_NOT_FOUND'],
    [
      'another app is unknown even when the role is missing too',
      { ...shopAll, role: 'viewer' },
      { role: 'deployer', app: 'blog' },
      'GANTRY_ERR_NOT_FOUND',
    ],
    ['a role below the need', viewer, { role: 'deployer' }, 'GANTRY_ERR_FORBIDDEN'],
    ['its own environment', shopStaging, { app: 'shop', envs: ['staging'] }, undefined],
    [
      'another environment',
      shopStaging,
      { app: 'shop', envs: ['production'] },
      'GANTRY_ERR_ENV_FORBIDDEN',
    ],
    [
      'one of two environments outside',
      shopStaging,
      { envs: ['staging', 'production'] },
      'GANTRY_ERR_ENV_FORBIDDEN',
    ],
    ['no environment named', shopStaging, { app: 'shop', envs: [undefined] }, undefined],
    [
      'unlock without the permission',
      shopAll,
      { permission: 'unlock' },
      'GANTRY_ERR_PERMISSION_REQUIRED',
    ],
    ['unlock with it', unlocker, { role: 'deployer', permission: 'unlock' }, undefined],
    ['an admin holds every permission', admin, { permission: 'deploy:any-branch' }, undefined],
    ['a cross-app view for a scoped token', shopAll, { unscoped: true }, 'GANTRY_ERR_FORBIDDEN'],
    ['a cross-app view for an unscoped one', viewer, { unscoped: true }, undefined],
  ])('%s', (_name, who, need, code) => {
    expect(denial(who, need)?.code).toBe(code);
  });

  it('names the environments a token is limited to', () => {
    expect(denial(shopStaging, { envs: ['production'] })?.message).toBe(
      'token shop-staging may not use environment production; it is limited to staging',
    );
  });

  it('never lets a scoped token through to an app or environment outside its scope', () => {
    const name = fc.constantFrom('shop', 'blog', 'staging', 'production', 'qa');
    const scope = fc.option(fc.uniqueArray(name, { minLength: 1 }), { nil: undefined });
    fc.assert(
      fc.property(scope, scope, name, name, (apps, envs, app, env) => {
        const who: Principal = { name: 't', role: 'admin', apps, envs };
        const allowed = denial(who, { app, envs: [env] }) === undefined;
        const inScope = (apps ?? [app]).includes(app) && (envs ?? [env]).includes(env);
        expect(allowed).toBe(inScope);
      }),
    );
  });

  it('filters environments and holds permissions as configured', () => {
    expect(visibleEnvs(shopStaging, ['production', 'staging'])).toEqual(['staging']);
    expect(visibleEnvs(undefined, ['production'])).toEqual(['production']);
    expect([holds(unlocker, 'unlock'), holds(unlocker, 'deploy:any-branch')]).toEqual([
      true,
      false,
    ]);
  });

  it('keeps events of other apps and environments out of a scoped stream', () => {
    const e = (app: string, env: string): StoredEvent => ({
      id: '1-0',
      type: 'env',
      at: 0,
      app,
      env,
      kind: 'locked',
      text: '',
    });
    const build: StoredEvent = {
      id: '2-0',
      type: 'build',
      at: 0,
      app: 'shop',
      buildId: 'b-1',
      sha: 'a',
      status: 'queued',
      text: '',
    };
    const seen = [e('shop', 'staging'), e('shop', 'production'), e('blog', 'staging'), build]
      .filter((x) => matchesFilter(x, { who: shopStaging }))
      .map((x) => x.id);
    expect(seen).toEqual(['1-0', '2-0']);
  });
});

describe('token scopes in gantry.config.yaml', () => {
  const config = (tokens: string) =>
    parseControllerConfig(
      `tokens:\n${tokens}\nrepos: [{ name: app, url: "http://127.0.0.1:9/a.git" }]`,
      {
        file: 'gantry.config.yaml',
        env: {},
      },
    );
  const hash = hashToken('x');

  it('reads apps, envs and permissions', () => {
    const c = config(
      `  - { name: shop, role: deployer, hash: "${hash}", apps: [shop], envs: [staging], permissions: [deploy:any-branch, unlock] }`,
    );
    expect(c.tokens[0]).toMatchObject({
      apps: ['shop'],
      envs: ['staging'],
      permissions: ['deploy:any-branch', 'unlock'],
    });
  });

  it.each([
    [
      'an admin limited to apps',
      `  - { name: root, role: admin, hash: "${hash}", apps: [shop] }`,
      /gantry\.config\.yaml:2:5: .*an admin token cannot be limited to apps or envs/,
    ],
    [
      'an unknown permission',
      `  - { name: ci, role: deployer, hash: "${hash}", permissions: [deploy:anything] }`,
      /tokens\[0\]\.permissions\[0\] must be one of "deploy:any-branch", "unlock"/,
    ],
    [
      'a scope that is not a name',
      `  - { name: ci, role: deployer, hash: "${hash}", apps: ["Shop!"] }`,
      /must be an app or environment name/,
    ],
  ])('rejects %s with file, line and column', (_name, tokens, message) => {
    expect(() => config(tokens)).toThrow(message);
  });

  it('shows an admin the scopes in /api/config, never the hash', () => {
    const c = config(
      `  - { name: shop, role: deployer, hash: "${hash}", apps: [shop], permissions: [unlock] }`,
    );
    expect(redactConfig(c).tokens).toEqual([
      { name: 'shop', role: 'deployer', apps: ['shop'], permissions: ['unlock'] },
    ]);
  });

  it('reports a changed scope as a changed token on reload, by name only', () => {
    const before = config(`  - { name: shop, role: deployer, hash: "${hash}", apps: [shop] }`);
    const after = config(`  - { name: shop, role: deployer, hash: "${hash}", apps: [shop, blog] }`);
    expect(diffConfig(before, after).tokens).toEqual({ added: [], removed: [], changed: ['shop'] });
  });
});
