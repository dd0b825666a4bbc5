import { describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { redactConfig, withoutUserInfo } from '../../src/config/redact.js';

const SECRETS = {
  GIT_PASSWORD: 'git-password-8c1f2a',
  FORGE_TOKEN: 'forge-token-77d0e1',
  NOTIFY_SECRET: 'notify-secret-31b9c4',
};

const CONFIG = `
redis: { url: "redis://:redis-password-5e2d@127.0.0.1:6379/0" }
registry: { address: 127.0.0.1:5000 }
tokens: [{ name: ops, role: admin, hash: "sha256:${'a'.repeat(64)}" }]
repos:
  - name: hello
    url: https://deploy:url-password-9a7f@git.example.com/acme/hello.git
    webhookSecret: webhook-secret-4f6a0b2c
    credentials: { username: deploy, passwordEnv: GIT_PASSWORD }
    forge: { kind: github, apiUrl: https://api.github.com, tokenEnv: FORGE_TOKEN }
notifications:
  - { name: chat, kind: slack, url: "https://hooks.slack.com/services/T000/B000/slack-path-secret" }
  - { name: hook, kind: webhook, url: "https://ci.example.com/gantry", secretEnv: NOTIFY_SECRET }
`;

describe('the configuration an admin sees', () => {
  const config = parseControllerConfig(CONFIG, { file: 'test', env: SECRETS });
  const shown = JSON.stringify(redactConfig(config));

  it.each([
    ['the token hash', 'a'.repeat(64)],
    ['the Redis password', 'redis-password-5e2d'],
    ['a password in a repo URL', 'url-password-9a7f'],
    ['the webhook secret', 'webhook-secret-4f6a0b2c'],
    ['the git password', SECRETS.GIT_PASSWORD],
    ['the forge token', SECRETS.FORGE_TOKEN],
    ['the notification secret', SECRETS.NOTIFY_SECRET],
    ["a Slack URL's secret path", 'slack-path-secret'],
  ])('never shows %s', (_what, secret) => {
    expect(shown).not.toContain(secret);
  });

  it('still says what is set and where things are', () => {
    const r = redactConfig(config);
    expect(r.tokens).toEqual([{ name: 'ops', role: 'admin' }]);
    expect(r.repos[0]).toMatchObject({
      name: 'hello',
      url: 'https://git.example.com/acme/hello.git',
      webhookSecret: '(set)',
      credentials: { username: 'deploy', password: '(set)' },
      forge: { kind: 'github', apiUrl: 'https://api.github.com', token: '(set)' },
    });
    expect(r.notifications.map((n) => n.url)).toEqual([
      'https://hooks.slack.com/…',
      'https://ci.example.com/…',
    ]);
    expect(r.redis.url).toBe('redis://127.0.0.1:6379/0');
  });

  it.each([
    ['redis://:pw@host:6379/0', 'redis://host:6379/0'],
    ['https://u:p@example.com/x', 'https://example.com/x'],
    ['https://example.com/x', 'https://example.com/x'],
    ['not a url', 'not a url'],
  ])('strips user info from %s', (url, want) => {
    expect(withoutUserInfo(url)).toBe(want);
  });
});
