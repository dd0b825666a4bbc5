/**
 * The webhook route's first decision under random and mutated deliveries: which repo's secret a
 * delivery is checked against (by the URL's repo, or the repository the payload claims). Every
 * input ends in a verified repo or a GantryError, never a crash; and a delivery is only ever
 * accepted for a repo whose own secret signed it.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyDelivery } from '../../src/api/webhooks.js';
import type { RepoConfig } from '../../src/config/controller-config.js';
import { GantryError } from '../../src/errors.js';
import { PROVIDERS, signWebhook, type Provider } from '../../src/source/webhooks/index.js';

const PUSH: Record<Provider, Buffer> = {
  github: readFileSync(new URL('../fixtures/webhooks/github-push.json', import.meta.url)),
  gitlab: readFileSync(new URL('../fixtures/webhooks/gitlab-push.json', import.meta.url)),
  gitea: readFileSync(new URL('../fixtures/webhooks/gitea-push.json', import.meta.url)),
};
/** The repositories the fixtures name, each configured with its own secret, plus a bystander. */
const REPOS = [
  { name: 'gh', url: 'https://github.com/acme/hello.git', webhookSecret: 'secret-gh' },
  {
    name: 'gl',
    url: 'https://gitlab.example.com/acme/platform/hello.git',
    webhookSecret: 'secret-gl',
  },
  { name: 'gt', url: 'https://gitea.example.com/acme/hello.git', webhookSecret: 'secret-gt' },
  { name: 'other', url: 'https://git.example.com/acme/other.git', webhookSecret: 'secret-other' },
  { name: 'unsigned', url: 'https://git.example.com/acme/unsigned.git' },
].map((r) => ({ branches: ['main'], apps: ['.'], pollIntervalSeconds: 0, ...r }) as RepoConfig);

/** Verified, or a GantryError; anything else fails the property. */
function attempt(...args: Parameters<typeof verifyDelivery>): RepoConfig | undefined {
  try {
    return verifyDelivery(...args).repo;
  } catch (e) {
    if (!(e instanceof GantryError)) throw e;
    expect(e.code).toMatch(/^GANTRY_ERR_WEBHOOK_(SIGNATURE|PAYLOAD|UNKNOWN_REPO)$/);
    return undefined;
  }
}

const provider = fc.constantFrom<Provider>(...PROVIDERS);
const named = fc.option(
  fc.constantFrom('gh', 'gl', 'gt', 'other', 'unsigned', 'nope', '__proto__'),
  {
    nil: undefined,
  },
);
const secret = fc.oneof(
  fc.constantFrom(...REPOS.flatMap((r) => (r.webhookSecret ? [r.webhookSecret] : []))),
  fc.string({ minLength: 1, maxLength: 20 }),
);

/** A real push payload with bytes replaced, cut or inserted. */
const mutatedBody = fc
  .record({
    p: provider,
    at: fc.nat(),
    cut: fc.nat({ max: 40 }),
    insert: fc.string({ maxLength: 12 }),
  })
  .map(({ p, at, cut, insert }) => {
    const text = PUSH[p].toString('utf8');
    const i = at % (text.length + 1);
    return Buffer.from(text.slice(0, i) + insert + text.slice(i + cut));
  });
const body = fc.oneof(
  provider.map((p) => PUSH[p]),
  mutatedBody,
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
);

describe('choosing the secret a webhook delivery is checked against', () => {
  it('verifies a genuine delivery, by the URL or by the repository it names', () => {
    const own: Record<Provider, string> = { github: 'gh', gitlab: 'gl', gitea: 'gt' };
    for (const p of PROVIDERS) {
      const repo = REPOS.find((r) => r.name === own[p])!;
      const headers = signWebhook(p, PUSH[p], repo.webhookSecret!, { event: 'push' });
      expect(attempt(REPOS, p, undefined, headers, PUSH[p])?.name).toBe(own[p]);
      expect(attempt(REPOS, p, own[p], headers, PUSH[p])?.name).toBe(own[p]);
      // Signed by that repo's secret, it is no other repo's delivery.
      expect(attempt(REPOS, p, 'other', headers, PUSH[p])).toBeUndefined();
    }
  });

  it('never crashes, and accepts only for the repo whose secret signed the bytes', () => {
    fc.assert(
      fc.property(provider, named, secret, body, fc.boolean(), (p, name, key, raw, sign) => {
        const headers = sign
          ? signWebhook(p, raw, key, { event: 'push' })
          : { 'content-type': 'application/json' };
        const repo = attempt(REPOS, p, name, headers, raw);
        if (repo) {
          expect(sign).toBe(true);
          expect(repo.webhookSecret).toBe(key);
          if (name !== undefined) expect(repo.name).toBe(name);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('never crashes on arbitrary headers', () => {
    const headers = fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          'x-hub-signature-256',
          'x-gitlab-token',
          'x-gitea-signature',
          'content-type',
          'x-github-event',
          'x-gitlab-event',
          'x-gitea-event',
          '__proto__',
        ),
        fc.string({ maxLength: 20 }),
      ),
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
      ),
    );
    fc.assert(
      fc.property(provider, named, headers, body, (p, name, h, raw) => {
        expect(attempt(REPOS, p, name, h, raw)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });
});
