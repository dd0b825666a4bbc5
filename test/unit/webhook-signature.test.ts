import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  signWebhook,
  verifyWebhook,
  type Headers,
  type Provider,
} from '../../src/source/webhooks/index.js';

const SECRET = 'correct horse battery staple';
const body = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url));

const hmac = (secret: string, raw: Buffer): string =>
  createHmac('sha256', secret).update(raw).digest('hex');

/** The one header that authenticates a delivery, per provider. */
const AUTH_HEADER: Record<Provider, string> = {
  github: 'x-hub-signature-256',
  gitlab: 'x-gitlab-token',
  gitea: 'x-gitea-signature',
};

interface Case {
  name: string;
  provider: Provider;
  /** Starts from correctly signed headers for the github/gitlab/gitea push fixture. */
  headers?: (signed: Headers, raw: Buffer) => Headers;
  raw?: (raw: Buffer) => Buffer;
  secret?: string;
  expected: boolean;
}

const without = (h: Headers, name: string): Headers =>
  Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));

const perProvider = (provider: Provider): Case[] => {
  const auth = AUTH_HEADER[provider];
  const hmacBased = provider !== 'gitlab';
  const prefix = provider === 'github' ? 'sha256=' : '';
  return [
    { name: 'valid signature', provider, expected: true },
    {
      name: 'signed with another secret',
      provider,
      headers: (_h, raw) => signWebhook(provider, raw, 'another secret'),
      expected: false,
    },
    { name: 'missing header', provider, headers: (h) => without(h, auth), expected: false },
    { name: 'empty header', provider, headers: (h) => ({ ...h, [auth]: '' }), expected: false },
    {
      name: 'wrong-length header',
      provider,
      headers: (h) => ({ ...h, [auth]: hmacBased ? `${prefix}abcd` : SECRET.slice(0, -1) }),
      expected: false,
    },
    {
      name: 'over-long header',
      provider,
      headers: (h) => ({ ...h, [auth]: `${String(h[auth])}00` }),
      expected: false,
    },
    {
      name: 'header sent twice',
      provider,
      headers: (h) => ({ ...h, [auth]: [String(h[auth]), String(h[auth])] }),
      expected: false,
    },
    {
      name: 'header as a one-element array',
      provider,
      headers: (h) => ({ ...h, [auth]: [String(h[auth])] }),
      expected: true,
    },
    {
      name: 'header name in mixed case',
      provider,
      headers: (h) => ({ ...without(h, auth), [auth.toUpperCase()]: h[auth] }),
      expected: true,
    },
    { name: 'empty secret never verifies', provider, secret: '', expected: false },
    {
      name: 'empty secret, even when the forge signed with it',
      provider,
      headers: (_h, raw) => signWebhook(provider, raw, ''),
      secret: '',
      expected: false,
    },
    {
      // GitLab sends a shared token, not a body signature: tampering cannot be detected there.
      name: 'tampered body',
      provider,
      raw: (raw) => Buffer.concat([raw, Buffer.from(' ')]),
      expected: !hmacBased,
    },
  ];
};

const HMAC_ONLY: Case[] = [
  {
    name: 'github: upper-case hex digest',
    provider: 'github',
    headers: (h, raw) => ({
      ...h,
      'x-hub-signature-256': `sha256=${hmac(SECRET, raw).toUpperCase()}`,
    }),
    expected: true,
  },
  {
    name: 'github: digest without the sha256= prefix',
    provider: 'github',
    headers: (h, raw) => ({ ...h, 'x-hub-signature-256': hmac(SECRET, raw) }),
    expected: false,
  },
  {
    name: 'github: sha1= prefix on a sha256 digest',
    provider: 'github',
    headers: (h, raw) => ({ ...h, 'x-hub-signature-256': `sha1=${hmac(SECRET, raw)}` }),
    expected: false,
  },
  {
    name: 'github: only the legacy SHA-1 header',
    provider: 'github',
    headers: (h, raw) => ({
      ...without(h, 'x-hub-signature-256'),
      'x-hub-signature': `sha1=${createHmac('sha1', SECRET).update(raw).digest('hex')}`,
    }),
    expected: false,
  },
  {
    name: 'github: non-hex characters of the right length',
    provider: 'github',
    headers: (h) => ({ ...h, 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` }),
    expected: false,
  },
  {
    name: 'gitea: github-style prefix is not accepted',
    provider: 'gitea',
    headers: (h, raw) => ({ ...h, 'x-gitea-signature': `sha256=${hmac(SECRET, raw)}` }),
    expected: false,
  },
  {
    name: 'gitea: a github signature header does not count',
    provider: 'gitea',
    headers: (h, raw) => ({
      ...without(h, 'x-gitea-signature'),
      'x-hub-signature-256': `sha256=${hmac(SECRET, raw)}`,
    }),
    expected: false,
  },
  {
    name: 'gitlab: token with trailing space',
    provider: 'gitlab',
    headers: (h) => ({ ...h, 'x-gitlab-token': `${SECRET} ` }),
    expected: false,
  },
];

describe('verifyWebhook', () => {
  const cases = [
    ...perProvider('github'),
    ...perProvider('gitlab'),
    ...perProvider('gitea'),
    ...HMAC_ONLY,
  ];
  it.each(cases.map((c) => ({ ...c, title: `${c.provider}: ${c.name}` })))('$title', (c) => {
    const raw = body(`${c.provider}-push`);
    const signed = signWebhook(c.provider, raw, SECRET);
    const headers = c.headers ? c.headers(signed, raw) : signed;
    const sent = c.raw ? c.raw(raw) : raw;
    expect(verifyWebhook(c.provider, headers, sent, c.secret ?? SECRET)).toBe(c.expected);
  });

  it('signs exactly as the forges document (independent HMAC)', () => {
    const raw = body('github-push');
    expect(signWebhook('github', raw, SECRET)['x-hub-signature-256']).toBe(
      `sha256=${hmac(SECRET, raw)}`,
    );
    expect(signWebhook('gitea', raw, SECRET)['x-gitea-signature']).toBe(hmac(SECRET, raw));
    expect(signWebhook('gitlab', raw, SECRET)['x-gitlab-token']).toBe(SECRET);
  });

  it('answers false, not an exception, for an unknown provider', () => {
    expect(verifyWebhook('bitbucket' as Provider, {}, Buffer.from('{}'), SECRET)).toBe(false);
    expect(verifyWebhook('__proto__' as Provider, {}, Buffer.from('{}'), SECRET)).toBe(false);
  });
});
