import { describe, expect, it } from 'vitest';
import { parseControllerConfig, substituteEnv } from '../../src/config/controller-config.js';
import { redactConfig } from '../../src/config/redact.js';
import { isSecretParam, redactUrl } from '../../src/config/redact-url.js';
import { isSecretPath } from '../../src/config/schema-issues.js';
import { isGantryError } from '../../src/errors.js';
import { minimalEnv } from '../../src/process/child-env.js';
import { accessLogConfig } from '../../src/edge/caddy/log-config.js';

describe('redactUrl', () => {
  it.each([
    [
      'redis password in the query',
      'redis://127.0.0.1:6379/0?password=s3',
      'redis://127.0.0.1:6379/0?password=***',
    ],
    ['redis user info', 'redis://default:s3@redis:6379', 'redis://redis:6379'],
    ['docker tcp host with user info', 'tcp://admin:s3@10.0.0.5:2376', 'tcp://10.0.0.5:2376'],
    ['caddy admin url with user info', 'http://u:s3@127.0.0.1:2019', 'http://127.0.0.1:2019'],
    [
      'a lone token as user info',
      'https://ghp_s3@github.com/a/b.git',
      'https://github.com/a/b.git',
    ],
    ['an @ inside the password', 'redis://:p@s3@host:1', 'redis://host:1'],
    [
      'several params, only secret ones hidden',
      'https://h/x?a=1&access_token=s3&b=2',
      'https://h/x?a=1&access_token=***&b=2',
    ],
    [
      'case and encoding of names',
      'https://h/?API%5FKey=s3&X-Amz-Signature=s3',
      'https://h/?API%5FKey=***&X-Amz-Signature=***',
    ],
    [
      'a secret in the fragment',
      'https://h/cb#id_token=s3&state=ok',
      'https://h/cb#id_token=***&state=ok',
    ],
    ['semicolon separators', 'https://h/?auth=s3;x=1', 'https://h/?auth=***;x=1'],
    ['a scheme-less registry with user info', 'u:s3@reg:5000', 'reg:5000'],
    ['a unix socket', 'unix:///var/run/docker.sock', 'unix:///var/run/docker.sock'],
    ['nothing to hide', 'https://example.com/a?page=2', 'https://example.com/a?page=2'],
    ['not a url', 'not a url', 'not a url'],
    ['an @ in the path only', 'https://h/users/@me', 'https://h/users/@me'],
  ])('%s', (_name, url, want) => {
    expect(redactUrl(url)).toBe(want);
  });

  it.each([
    ['password', true],
    ['redis_password', true],
    ['token', true],
    ['client_secret', true],
    ['apikey', true],
    ['auth', true],
    ['page', false],
    ['db', false],
  ])('param %s is secret: %s', (name, want) => {
    expect(isSecretParam(name)).toBe(want);
  });
});

describe('the admin config view holds no URL credential', () => {
  const config = parseControllerConfig(
    [
      'redis: { url: "redis://user:redis-userinfo-s3@127.0.0.1:6379/0?password=redis-query-s3" }',
      'docker: { host: "tcp://d:docker-host-s3@10.0.0.5:2376" }',
      'runtime: { hosts: [{ name: a, endpoint: "tcp://r:runtime-host-s3@10.0.0.6:2376" }] }',
      'edge:',
      '  frontAdminUrl: "http://f:front-admin-s3@127.0.0.1:2019"',
      '  backAdminUrl: "http://127.0.0.1:2020/?token=back-admin-s3"',
      '  acme: { ca: "https://acme:acme-s3@ca.example.com/dir" }',
      'api: { publicUrl: "https://p:public-url-s3@gantry.example.com" }',
      'repos:',
      '  - name: app',
      '    url: "https://git.example.com/a.git?private_token=repo-query-s3"',
      '    forge: { kind: gitlab, apiUrl: "https://f:forge-api-s3@gitlab.example.com", webUrl: "https://gitlab.example.com/?auth=forge-web-s3", tokenEnv: T }',
    ].join('\n'),
    { env: { T: 'forge-token' } },
  );
  const shown = JSON.stringify(redactConfig(config));

  it.each([
    'redis-userinfo-s3',
    'redis-query-s3',
    'docker-host-s3',
    'runtime-host-s3',
    'front-admin-s3',
    'back-admin-s3',
    'acme-s3',
    'public-url-s3',
    'repo-query-s3',
    'forge-api-s3',
    'forge-web-s3',
    'forge-token',
  ])('hides %s', (secret) => {
    expect(shown).not.toContain(secret);
  });

  it('keeps where things are', () => {
    const r = redactConfig(config);
    expect(r.redis.url).toBe('redis://127.0.0.1:6379/0?password=***');
    expect(r.docker.host).toBe('tcp://10.0.0.5:2376');
    expect(r.runtime.hosts[0]?.endpoint).toBe('tcp://10.0.0.6:2376');
    expect(r.edge.frontAdminUrl).toBe('http://127.0.0.1:2019');
    expect(r.registry.address).toBe('127.0.0.1:5000');
  });
});

function errorOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseControllerConfig(text, { env });
  } catch (e) {
    if (isGantryError(e, 'GANTRY_ERR_CONFIG_INVALID')) return e.message;
    throw e;
  }
  throw new Error('expected an error');
}

describe('config errors quote no secret', () => {
  it('reports a short webhook secret without its value', () => {
    const message = errorOf(
      'repos: [{ name: a, url: "https://x/a", webhookSecret: "${HOOK}" }]\n',
      { HOOK: 'tiny-s3cret' },
    );
    expect(message).toMatch(/webhookSecret must be a string of at least 16 characters/);
    expect(message).toMatch(/hidden value of 11 characters/);
    expect(message).not.toContain('tiny-s3cret');
  });

  it('reports a bad token hash without its value', () => {
    const message = errorOf(
      'tokens: [{ name: a, role: admin, hash: "plain-hash-s3" }]\nrepos: []\n',
    );
    expect(message).toMatch(/hash/);
    expect(message).not.toContain('plain-hash-s3');
  });

  it('strips credentials from a URL it quotes', () => {
    const message = errorOf('repos: []\napi: { publicUrl: "ftp://u:url-s3@h" }\n');
    expect(message).toMatch(/publicUrl/);
    expect(message).not.toContain('url-s3');
  });

  it.each([
    [['repos', 0, 'webhookSecret'], true],
    [['tokens', 1, 'hash'], true],
    [['notifications', 0, 'secretEnv'], false],
    [['secrets', 'keyFile'], false],
    [['listen', 'port'], false],
  ])('%j is secret: %s', (path, want) => {
    expect(isSecretPath(path)).toBe(want);
  });
});

describe('${VAR} substitution inserts scalars, not YAML', () => {
  const at = { file: 'f', plain: true, line: 1, col: 1 };
  it.each<[string, string, NodeJS.ProcessEnv, boolean, unknown]>([
    ['a whole plain reference to a number', '${P}', { P: '8080' }, true, 8080],
    ['a whole plain reference to a boolean', '${B}', { B: 'true' }, true, true],
    ['a quoted reference stays a string', '${P}', { P: '8080' }, false, '8080'],
    ['a reference inside text', 'sha256:${H}', { H: 'ab' }, true, 'sha256:ab'],
    ['a default', '${NOPE:-x}', {}, true, 'x'],
    ['a newline and a key', '${V}', { V: 'a\nevil: key' }, true, 'a\nevil: key'],
    ['flow and comment characters', '${V}', { V: '{ a: 1 } # c' }, true, '{ a: 1 } # c'],
    ['no reference', 'plain text', {}, true, 'plain text'],
  ])('%s', (_name, value, env, plain, want) => {
    expect(substituteEnv(value, env, { ...at, plain })).toEqual(want);
  });

  it.each([
    // dataDir: a free-form string, so the value is kept whole rather than refused by a pattern.
    ['plain', 'dataDir: ${V}'],
    ['double-quoted', 'dataDir: "${V}"'],
    ['single-quoted', "dataDir: '${V}'"],
    ['block', 'dataDir: |-\n  ${V}'],
  ])('a newline in a variable adds no key (%s)', (_name, line) => {
    const cfg = parseControllerConfig(`${line}\nrepos: []\n`, {
      env: { V: '/data\nevil: key' },
    });
    expect(cfg.dataDir.endsWith('/data\nevil: key')).toBe(true);
    expect(Object.keys(cfg)).not.toContain('evil');
  });

  it('cannot inject a repo or a token through a variable', () => {
    const cfg = parseControllerConfig('dataDir: "${V}"\nrepos: []\n', {
      env: {
        V: 'x"\ntokens: [{ name: e, role: admin, hash: "sha256:' + 'a'.repeat(64) + '" }]\n#',
      },
    });
    expect(cfg.tokens).toEqual([]);
  });

  it('keeps numbers working', () => {
    const cfg = parseControllerConfig('listen:\n  port: ${P}\nrepos: []\n', {
      env: { P: '9100' },
    });
    expect(cfg.listen.port).toBe(9100);
  });

  it('ignores references in comments and names the line of an unset one', () => {
    expect(() =>
      parseControllerConfig('# ${UNSET} in a comment\nrepos: []\n', { env: {} }),
    ).not.toThrow();
    expect(errorOf('repos: []\nregistry: { address: "${NOPE}" }\n')).toMatch(
      /:2:\d+: environment variable NOPE is referenced but not set/,
    );
  });
});

describe('minimalEnv', () => {
  it('passes only what a child needs, plus what it is given', () => {
    const env = minimalEnv(
      {
        PATH: '/usr/bin',
        HOME: '/home/g',
        GANTRY_ADMIN_TOKEN: 's3',
        AWS_SECRET_ACCESS_KEY: 's3',
        HELLO_GIT_TOKEN: 's3',
      },
      { XDG_DATA_HOME: '/d' },
    );
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/g', XDG_DATA_HOME: '/d' });
  });
});

describe('access log fields', () => {
  it('drops request and response headers in both tiers', () => {
    const back = accessLogConfig('/b.log', 'back').encoder as { fields: Record<string, unknown> };
    const front = accessLogConfig('/f.log', 'front').encoder as { fields: Record<string, unknown> };
    for (const fields of [back.fields, front.fields]) {
      expect(fields['request>headers']).toEqual({ filter: 'delete' });
      expect(fields.resp_headers).toEqual({ filter: 'delete' });
    }
  });
});
