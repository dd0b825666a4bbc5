import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  deliveryId,
  isProvider,
  parseWebhook,
  PROVIDERS,
  signWebhook,
  verifyWebhook,
  type Headers,
  type Provider,
} from '../../src/source/webhooks/index.js';

const raw = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url));

const digest = (provider: string, body: Buffer): string =>
  createHash('sha256')
    .update(Buffer.concat([Buffer.from(provider), body]))
    .digest('hex');

const BODY = Buffer.from('{"ref":"refs/heads/main"}');
const UUID = 'f6266f16-1bf3-46a5-9ea4-602e06ead473';
const OTHER_UUID = '0d8a1f3c-5b2e-4c7d-9e6f-a1b2c3d4e5f6';

interface Case {
  name: string;
  provider: Provider;
  headers: Headers;
  expected: string;
}

const CASES: Case[] = [
  {
    name: 'github delivery header',
    provider: 'github',
    headers: { 'x-github-delivery': UUID },
    expected: UUID,
  },
  {
    name: 'gitea delivery header',
    provider: 'gitea',
    headers: { 'x-gitea-delivery': UUID },
    expected: UUID,
  },
  {
    name: 'gitlab event uuid',
    provider: 'gitlab',
    headers: { 'x-gitlab-event-uuid': UUID },
    expected: UUID,
  },
  {
    name: 'gitlab webhook uuid when there is no event uuid',
    provider: 'gitlab',
    headers: { 'x-gitlab-webhook-uuid': OTHER_UUID },
    expected: OTHER_UUID,
  },
  {
    name: 'gitlab prefers the event uuid',
    provider: 'gitlab',
    headers: { 'x-gitlab-webhook-uuid': OTHER_UUID, 'x-gitlab-event-uuid': UUID },
    expected: UUID,
  },
  {
    name: 'header name in another case',
    provider: 'github',
    headers: { 'X-GitHub-Delivery': UUID },
    expected: UUID,
  },
  {
    name: 'github without header: body digest',
    provider: 'github',
    headers: {},
    expected: digest('github', BODY),
  },
  {
    name: 'gitlab without header: body digest',
    provider: 'gitlab',
    headers: {},
    expected: digest('gitlab', BODY),
  },
  {
    name: 'gitea without header: body digest',
    provider: 'gitea',
    headers: {},
    expected: digest('gitea', BODY),
  },
  {
    name: 'another provider’s header does not count',
    provider: 'gitea',
    headers: { 'x-github-delivery': UUID },
    expected: digest('gitea', BODY),
  },
  {
    name: 'empty header falls back',
    provider: 'github',
    headers: { 'x-github-delivery': '' },
    expected: digest('github', BODY),
  },
  {
    name: 'header with spaces and newlines falls back',
    provider: 'github',
    headers: { 'x-github-delivery': 'abc def\nxyz' },
    expected: digest('github', BODY),
  },
  {
    name: 'over-long header falls back',
    provider: 'github',
    headers: { 'x-github-delivery': 'a'.repeat(129) },
    expected: digest('github', BODY),
  },
  {
    name: 'header sent twice falls back',
    provider: 'github',
    headers: { 'x-github-delivery': [UUID, OTHER_UUID] },
    expected: digest('github', BODY),
  },
  {
    name: 'malformed event uuid falls through to the webhook uuid',
    provider: 'gitlab',
    headers: { 'x-gitlab-event-uuid': '../../etc', 'x-gitlab-webhook-uuid': OTHER_UUID },
    expected: OTHER_UUID,
  },
];

describe('deliveryId', () => {
  it.each(CASES)('$name', ({ provider, headers, expected }) => {
    expect(deliveryId(provider, headers, BODY)).toBe(expected);
  });

  it('is stable for a redelivered body and differs between bodies and providers', () => {
    const again = Buffer.from(BODY);
    expect(deliveryId('github', {}, again)).toBe(deliveryId('github', {}, BODY));
    expect(deliveryId('github', {}, Buffer.from('{}'))).not.toBe(deliveryId('github', {}, BODY));
    expect(deliveryId('gitlab', {}, BODY)).not.toBe(deliveryId('github', {}, BODY));
  });

  it('is what parseWebhook puts in the event', () => {
    const body = raw('github-push');
    const headers = signWebhook('github', body, 's');
    delete headers['x-github-delivery'];
    expect(parseWebhook('github', headers, body).deliveryId).toBe(digest('github', body));
  });
});

const FIXTURES: Record<Provider, { fixture: string; kind: string }[]> = {
  github: [
    { fixture: 'github-push', kind: 'push' },
    { fixture: 'github-ping', kind: 'ping' },
    { fixture: 'github-tag-push', kind: 'ignored' },
    { fixture: 'github-branch-delete', kind: 'ignored' },
  ],
  gitlab: [
    { fixture: 'gitlab-push', kind: 'push' },
    { fixture: 'gitlab-tag-push', kind: 'ignored' },
    { fixture: 'gitlab-branch-delete', kind: 'ignored' },
  ],
  gitea: [
    { fixture: 'gitea-push', kind: 'push' },
    { fixture: 'gitea-tag-push', kind: 'ignored' },
  ],
};

describe('signWebhook round-trips', () => {
  const cases = PROVIDERS.flatMap((provider) =>
    FIXTURES[provider].map((c) => ({ ...c, provider, name: `${provider}: ${c.fixture}` })),
  );

  it.each(cases)(
    '$name verifies and parses with the guessed event',
    ({ provider, fixture, kind }) => {
      const body = raw(fixture);
      const headers = signWebhook(provider, body, 'hunter2');
      expect(verifyWebhook(provider, headers, body, 'hunter2')).toBe(true);
      expect(verifyWebhook(provider, headers, body, 'hunter3')).toBe(false);
      const event = parseWebhook(provider, headers, body);
      expect(event.kind).toBe(kind);
      expect(event.provider).toBe(provider);
      expect(event.deliveryId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    },
  );

  it.each(PROVIDERS)(
    '%s: is deterministic and honours explicit event and delivery id',
    (provider) => {
      const body = raw(`${provider}-push`);
      expect(signWebhook(provider, body, 'k')).toEqual(signWebhook(provider, body, 'k'));
      const headers = signWebhook(provider, body, 'k', { event: 'release', deliveryId: UUID });
      const event = parseWebhook(provider, headers, body);
      expect(event).toMatchObject({
        kind: 'ignored',
        reason: 'unsupported-event',
        deliveryId: UUID,
      });
    },
  );

  it('guesses the event header a forge would send', () => {
    expect(signWebhook('github', raw('github-ping'), 'k')['x-github-event']).toBe('ping');
    expect(signWebhook('github', raw('github-push'), 'k')['x-github-event']).toBe('push');
    expect(signWebhook('gitlab', raw('gitlab-tag-push'), 'k')['x-gitlab-event']).toBe(
      'Tag Push Hook',
    );
    expect(signWebhook('gitlab', raw('gitlab-push'), 'k')['x-gitlab-event']).toBe('Push Hook');
    expect(signWebhook('gitea', raw('gitea-push'), 'k')['x-gitea-event']).toBe('push');
  });
});

describe('isProvider', () => {
  it.each([
    ['github', true],
    ['gitlab', true],
    ['gitea', true],
    ['GitHub', false],
    ['bitbucket', false],
    ['__proto__', false],
    ['', false],
  ] as const)('%j → %s', (value, expected) => {
    expect(isProvider(value)).toBe(expected);
  });
});
