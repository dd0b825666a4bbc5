import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GantryError } from '../../src/errors.js';
import { branchNameProblem } from '../../src/git/branch-name.js';
import type { WebhookAdapter } from '../../src/source/webhooks/event.js';
import { gitea } from '../../src/source/webhooks/gitea.js';
import { github } from '../../src/source/webhooks/github.js';
import { gitlab } from '../../src/source/webhooks/gitlab.js';
import { decodeBody } from '../../src/source/webhooks/payload.js';
import {
  parseWebhook,
  PROVIDERS,
  signWebhook,
  verifyWebhook,
  type Headers,
  type Provider,
  type WebhookEvent,
} from '../../src/source/webhooks/index.js';

type Json = Record<string, unknown>;

const FIXTURES: Record<Provider, string[]> = {
  github: ['github-push', 'github-ping', 'github-tag-push', 'github-branch-delete'],
  gitlab: ['gitlab-push', 'gitlab-tag-push', 'gitlab-branch-delete'],
  gitea: ['gitea-push', 'gitea-tag-push', 'gitea-branch-delete'],
};
const load = (name: string): Json =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8'),
  ) as Json;

const EVENTS: Record<Provider, string[]> = {
  github: ['push', 'ping', 'issues', 'delete'],
  gitlab: ['Push Hook', 'Tag Push Hook', 'System Hook'],
  gitea: ['push', 'delete', 'create'],
};

const provider = fc.constantFrom<Provider>(...PROVIDERS);

/** Headers with the provider's event header set to one of its events, or to anything at all. */
const headersFor = (p: Provider): fc.Arbitrary<Headers> => {
  const eventHeader = {
    github: 'x-github-event',
    gitlab: 'x-gitlab-event',
    gitea: 'x-gitea-event',
  }[p];
  return fc.record({
    [eventHeader]: fc.oneof(fc.constantFrom(...EVENTS[p]), fc.string(), fc.constant(undefined)),
    'content-type': fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      undefined,
    ),
  }) as fc.Arbitrary<Headers>;
};

const ADAPTERS: Record<Provider, WebhookAdapter> = { github, gitlab, gitea };

/**
 * Runs the adapter directly (below parseWebhook's last-resort wrapper, so a stray TypeError in a
 * parser fails the property instead of being converted), then parseWebhook itself, and checks both
 * agree. Anything thrown that is not a payload GantryError fails the property.
 */
function parseSafely(p: Provider, headers: Headers, body: Buffer): WebhookEvent | GantryError {
  const direct = attempt(() => ADAPTERS[p].parse(headers, decodeBody(p, headers, body), 'id'));
  const wrapped = attempt(() => parseWebhook(p, headers, body));
  expect(wrapped instanceof GantryError).toBe(direct instanceof GantryError);
  return wrapped;
}

function attempt<T>(run: () => T): T | GantryError {
  try {
    return run();
  } catch (e) {
    if (e instanceof GantryError && e.code === 'GANTRY_ERR_WEBHOOK_PAYLOAD') return e;
    throw e;
  }
}

/** Invariants every accepted push must satisfy, whatever the input. */
function checkEvent(result: WebhookEvent | GantryError): void {
  if (result instanceof GantryError) return;
  if (result.kind === 'ignored') {
    // eslint-disable-next-line no-control-regex -- details reach logs: no control characters
    expect(result.detail).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(result.detail.length).toBeLessThan(300);
  }
  if (result.kind !== 'push') return;
  expect(result.after).toMatch(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/);
  expect(result.before).toMatch(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/);
  expect(result.after).not.toMatch(/^0+$/);
  expect(branchNameProblem(result.branch)).toBeUndefined();
  expect(result.repo.fullName).not.toBe('');
  expect(result.repo.urls.length).toBeGreaterThan(0);
}

/** Every path to a value inside a JSON tree, so a mutation can reach deep fields. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function mutate(
  body: Json,
  path: (string | number)[],
  replacement: unknown,
  remove: boolean,
): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(body);
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

describe('parseWebhook never throws anything but GantryError', () => {
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(
        provider.chain((p) =>
          fc.tuple(fc.constant(p), headersFor(p), fc.uint8Array({ maxLength: 512 })),
        ),
        ([p, headers, bytes]) => checkEvent(parseSafely(p, headers, Buffer.from(bytes))),
      ),
      { numRuns: 500 },
    );
  });

  it('on arbitrary JSON', () => {
    fc.assert(
      fc.property(
        provider.chain((p) => fc.tuple(fc.constant(p), headersFor(p), fc.jsonValue())),
        ([p, headers, json]) =>
          checkEvent(parseSafely(p, headers, Buffer.from(JSON.stringify(json) ?? 'null'))),
      ),
      { numRuns: 500 },
    );
  });

  it('on documented payloads with one field replaced or removed', () => {
    const cases = PROVIDERS.flatMap((p) => FIXTURES[p].map((f) => ({ p, body: load(f) })));
    const arb = fc
      .constantFrom(...cases)
      .chain(({ p, body }) =>
        fc.tuple(
          fc.constant(p),
          headersFor(p),
          fc.constant(body),
          fc.constantFrom(...paths(body)),
          fc.oneof(
            fc.jsonValue({ maxDepth: 2 }),
            fc.constantFrom(
              '',
              '0'.repeat(40),
              'refs/heads/a..b',
              'refs/tags/x',
              '__proto__',
              null,
            ),
          ),
          fc.boolean(),
        ),
      );
    fc.assert(
      fc.property(arb, ([p, headers, body, path, replacement, remove]) => {
        const mutated = Buffer.from(
          JSON.stringify(mutate(body, path, replacement, remove)) ?? 'null',
        );
        checkEvent(parseSafely(p, headers, mutated));
      }),
      { numRuns: 2000 },
    );
  });

  it('on prototype-polluting keys', () => {
    for (const p of PROVIDERS) {
      const body = Buffer.from(
        '{"__proto__":{"ref":"refs/heads/main"},"constructor":{"prototype":1}}',
      );
      const result = parseSafely(p, signWebhook(p, body, 's'), body);
      expect(result).toBeInstanceOf(GantryError);
    }
  });

  it('on absurdly nested JSON', () => {
    const body = Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    for (const p of PROVIDERS)
      expect(parseSafely(p, signWebhook(p, body, 's'), body)).toBeInstanceOf(GantryError);
  });
});

describe('verifyWebhook never throws and never accepts a forgery', () => {
  it('on arbitrary header values, bodies and secrets', () => {
    const headerValue = fc.oneof(
      fc.string(),
      fc.stringMatching(/^(sha256=)?[0-9a-fA-F]{0,70}$/),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(
        provider,
        fc.record({
          'x-hub-signature-256': headerValue,
          'x-gitea-signature': headerValue,
          'x-gitlab-token': headerValue,
        }),
        fc.uint8Array({ maxLength: 256 }),
        fc.string({ minLength: 1 }),
        (p, headers, bytes, secret) => {
          const forged = headers as Headers;
          const accepted = verifyWebhook(p, forged, Buffer.from(bytes), secret);
          // A random string matches an HMAC-SHA256 with probability 2^-256; only GitLab's shared
          // token can be hit by chance, when the generator happens to produce the secret itself.
          expect(accepted).toBe(p === 'gitlab' && single(forged['x-gitlab-token']) === secret);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

function single(value: Headers[string]): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}
