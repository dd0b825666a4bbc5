import { describe, expect, it } from 'vitest';
import { loadControllerConfig, parseControllerConfig } from '../../src/config/controller-config.js';
import { isGantryError } from '../../src/errors.js';

const MINIMAL = 'repos: [{ name: app, url: "https://git.example.com/acme/app.git" }]\n';

function errorOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseControllerConfig(text, { env, baseDir: '/srv/gantry' });
  } catch (e) {
    if (isGantryError(e, 'GANTRY_ERR_CONFIG_INVALID')) return e.message;
    throw e;
  }
  throw new Error('expected an error');
}

describe('controller config', () => {
  it('fills every default from the smallest file', () => {
    const cfg = parseControllerConfig(MINIMAL, { env: {}, baseDir: '/srv/gantry' });
    expect(cfg.listen).toEqual({ host: '127.0.0.1', port: 8700 });
    expect(cfg.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'gantry' });
    expect(cfg.dataDir).toBe('/srv/gantry/.gantry/data');
    expect(cfg.build).toMatchObject({ concurrency: 2, attempts: 8, debounceMs: 1500 });
    expect(cfg.webhooks.bodyLimitBytes).toBe(1048576);
    expect(cfg.tokens).toEqual([]);
    expect(cfg.repos[0]).toMatchObject({ branches: ['main'], apps: ['.'], pollIntervalSeconds: 0 });
  });

  it('substitutes ${VAR} and ${VAR:-default}, and reads credentials from the environment', () => {
    const cfg = parseControllerConfig(
      [
        'redis: { url: "${REDIS_URL:-redis://127.0.0.1:6390}" }',
        'repos:',
        '  - name: app',
        '    url: https://git.example.com/acme/app.git',
        '    webhookSecret: "${HOOK_SECRET}"',
        '    credentials: { passwordEnv: GIT_TOKEN }',
      ].join('\n'),
      { env: { HOOK_SECRET: 's3cret-s3cret-s3cret', GIT_TOKEN: 'tok' } },
    );
    expect(cfg.redis.url).toBe('redis://127.0.0.1:6390');
    expect(cfg.repos[0]?.webhookSecret).toBe('s3cret-s3cret-s3cret');
    expect(cfg.repos[0]?.credentials).toEqual({ username: 'x-access-token', password: 'tok' });
  });

  it('accepts the example file the README and docker-compose.yml point at', () => {
    const cfg = loadControllerConfig('gantry.config.example.yaml', {
      GANTRY_ADMIN_TOKEN_SHA256: 'a'.repeat(64),
      HELLO_WEBHOOK_SECRET: 'x'.repeat(24),
      HELLO_GIT_TOKEN: 'token',
    });
    expect(cfg.repos[0]?.credentials?.password).toBe('token');
    expect(cfg.runtime.hosts).toEqual([{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }]);
    expect(cfg.edge).toMatchObject({ manage: true, basePort: 8800 });
  });

  it('lets GANTRY_* variables override the file', () => {
    const cfg = parseControllerConfig(MINIMAL, {
      env: {
        GANTRY_PORT: '9000',
        GANTRY_REDIS_URL: 'redis://127.0.0.1:1',
        GANTRY_REGISTRY: 'reg:5000',
      },
    });
    expect(cfg.listen.port).toBe(9000);
    expect(cfg.redis.url).toBe('redis://127.0.0.1:1');
    expect(cfg.registry.address).toBe('reg:5000');
  });

  it.each<[string, string, RegExp, NodeJS.ProcessEnv?]>([
    [
      'an unset variable',
      'repos: []\nregistry: { address: "${NOPE}" }\n',
      /NOPE is referenced but not set/,
    ],
    ['an unknown key', MINIMAL + 'colour: blue\n', /gantry\.config\.yaml:2:1: .*colour/],
    ['a duplicate key', MINIMAL + 'repos: []\n', /gantry\.config\.yaml:2:1: .*[Dd]uplicate/],
    [
      'a short webhook secret',
      'repos: [{ name: a, url: "https://x/a", webhookSecret: short }]\n',
      /webhookSecret/,
    ],
    ['a bad token hash', MINIMAL + 'tokens: [{ name: a, role: admin, hash: "plain" }]\n', /hash/],
    [
      'a missing credential variable',
      'repos: [{ name: a, url: "https://x/a", credentials: { passwordEnv: TOKEN } }]\n',
      /TOKEN, which is not set/,
    ],
    ['a bad GANTRY_PORT', MINIMAL, /GANTRY_PORT/, { GANTRY_PORT: 'eighty' }],
    [
      'a notification URL that is not http(s)',
      MINIMAL + 'notifications: [{ name: chat, kind: slack, url: "hooks.example.com/x" }]\n',
      /gantry\.config\.yaml:2:\d+: notifications\[0\]\.url must be an http:\/\/ or https:\/\/ URL/,
    ],
  ])('refuses %s', (_name, text, message, env) => {
    expect(errorOf(text, env ?? {})).toMatch(message);
  });
});
