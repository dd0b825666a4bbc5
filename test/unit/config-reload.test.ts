import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { describeChanges, diffConfig, reloaded } from '../../src/config/config-diff.js';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { LiveConfig } from '../../src/config/live-config.js';
import { reloadConfigFile } from '../../src/config/reload.js';
import { isGantryError } from '../../src/errors.js';
import { RepoRegistry } from '../../src/source/repos.js';

const HASH = (c: string) => `sha256:${c.repeat(64)}`;
const ENV = { HOOK_SECRET: 'notify-secret-31b9c4' };

/** A parsed controller config from its parts; `head` replaces the listen line. */
function config(parts: {
  head?: string[];
  tokens?: string[];
  repos?: string[];
  notifications?: string[];
}) {
  const text = [
    ...(parts.head ?? ['listen: { host: 127.0.0.1, port: 7000 }']),
    'registry: { address: 127.0.0.1:5000 }',
    'dataDir: /tmp/gantry-data',
    `tokens: [${(parts.tokens ?? []).join(', ')}]`,
    `notifications: [${(parts.notifications ?? []).join(', ')}]`,
    'repos:',
    ...(parts.repos ?? []).map((r) => `  - ${r}`),
  ].join('\n');
  return parseControllerConfig(text, { file: 'test.yaml', env: ENV });
}

const ops = `{ name: ops, role: admin, hash: "${HASH('a')}" }`;
const ci = `{ name: ci, role: deployer, hash: "${HASH('b')}" }`;
const app =
  '{ name: app, url: "https://git.example.com/acme/app.git", webhookSecret: webhook-secret-4f6a0b2c }';
const docs = '{ name: docs, url: "https://git.example.com/acme/docs.git" }';
const chat =
  '{ name: chat, kind: webhook, url: "https://ci.example.com/hook", secretEnv: HOOK_SECRET }';

describe('diffConfig', () => {
  const base = config({ tokens: [ops], repos: [app], notifications: [] });
  it.each([
    ['nothing changed', config({ tokens: [ops], repos: [app] }), {}, []],
    [
      'a repo added',
      config({ tokens: [ops], repos: [app, docs] }),
      { repos: { added: ['docs'] } },
      [],
    ],
    [
      'a repo removed',
      config({ tokens: [ops], repos: [docs] }),
      { repos: { added: ['docs'], removed: ['app'] } },
      [],
    ],
    [
      "a repo's secret rotated",
      config({ tokens: [ops], repos: [app.replace('4f6a0b2c', '00000000')] }),
      { repos: { changed: ['app'] } },
      [],
    ],
    [
      'a token added',
      config({ tokens: [ops, ci], repos: [app] }),
      { tokens: { added: ['ci'] } },
      [],
    ],
    [
      "a token's hash replaced",
      config({ tokens: [ops.replace(HASH('a'), HASH('c'))], repos: [app] }),
      { tokens: { changed: ['ops'] } },
      [],
    ],
    [
      'key order only',
      config({ tokens: [`{ hash: "${HASH('a')}", role: admin, name: ops }`], repos: [app] }),
      {},
      [],
    ],
    [
      'a notification added',
      config({ tokens: [ops], repos: [app], notifications: [chat] }),
      { notifications: { added: ['chat'] } },
      [],
    ],
    [
      'the port and Redis changed',
      config({
        head: ['listen: { host: 127.0.0.1, port: 7001 }', 'redis: { url: "redis://:pw@db:6379" }'],
        tokens: [ops],
        repos: [app],
      }),
      {},
      ['listen.port', 'redis.url'],
    ],
  ] as const)('%s', (_name, next, changed, needsRestart) => {
    const none = { added: [], removed: [], changed: [] };
    const want = changed as Record<string, Partial<typeof none>>;
    expect(diffConfig(base, next)).toEqual({
      repos: { ...none, ...want.repos },
      tokens: { ...none, ...want.tokens },
      notifications: { ...none, ...want.notifications },
      needsRestart,
    });
  });

  it('names what changed and never a value', () => {
    const next = config({
      head: [
        'listen: { host: 127.0.0.1, port: 7000 }',
        'redis: { url: "redis://:pw-77d0e1@db:6379" }',
      ],
      tokens: [ops.replace(HASH('a'), HASH('c')), ci],
      repos: [app.replace('4f6a0b2c', '5e2d5e2d'), docs],
      notifications: [chat],
    });
    const changes = diffConfig(base, next);
    const text = JSON.stringify(changes) + describeChanges(changes);
    for (const secret of [
      'pw-77d0e1',
      'c'.repeat(64),
      'b'.repeat(64),
      '5e2d5e2d',
      ENV.HOOK_SECRET,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(describeChanges(changes)).toBe(
      'repos +docs ~app; tokens +ci ~ops; notifications +chat; needs a restart: redis.url',
    );
  });

  it('applies the reloadable sections and keeps the rest as it runs', () => {
    const next = config({
      head: ['listen: { host: 0.0.0.0, port: 9 }'],
      tokens: [ci],
      repos: [docs],
    });
    const applied = reloaded(base, next);
    expect(applied.listen).toEqual(base.listen);
    expect(applied.tokens.map((t) => t.name)).toEqual(['ci']);
    expect(applied.repos.map((r) => r.name)).toEqual(['docs']);
  });
});

describe('RepoRegistry.replace', () => {
  it('adds and removes repos, keeps unchanged ones as they were, and tells its followers', () => {
    const first = config({ repos: [app, docs] });
    const registry = new RepoRegistry(first.repos, first.dataDir);
    const before = registry.get('app');
    let told = 0;
    registry.onChange(() => told++);
    registry.replace(config({ repos: [app] }).repos);
    expect(registry.all().map((r) => r.config.name)).toEqual(['app']);
    expect(registry.get('app')).toBe(before);
    expect(() => registry.get('docs')).toThrow(/not configured/);
    registry.replace(
      config({ repos: [app, '{ name: app2, url: "https://x.example.com/a.git" }'] }).repos,
    );
    expect(registry.tracks('app2', 'main')).toBe(true);
    expect(told).toBe(2);
  });

  it('keeps the cache of a repo whose remote is unchanged, and makes a new one otherwise', () => {
    const first = config({ repos: [app] });
    const registry = new RepoRegistry(first.repos, first.dataDir);
    const cache = registry.get('app').cache;
    registry.replace(config({ repos: [app.replace('4f6a0b2c', '00000000')] }).repos);
    expect(registry.get('app').cache).toBe(cache);
    registry.replace(config({ repos: [app.replace('acme/app', 'acme/app2')] }).repos);
    expect(registry.get('app').cache).not.toBe(cache);
  });
});

describe('reloadConfigFile', () => {
  const log = pino({ level: 'silent' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-reload-'));
  const file = path.join(dir, 'gantry.config.yaml');
  const text = (tokens: string) =>
    [
      'listen: { host: 127.0.0.1, port: 7000 }',
      'registry: { address: 127.0.0.1:5000 }',
      `dataDir: ${dir}`,
      `tokens: [${tokens}]`,
      'repos: []',
    ].join('\n');

  it('applies a valid file and reports what changed', () => {
    writeFileSync(file, text(ops));
    const live = new LiveConfig(parseControllerConfig(text(ops), { file }));
    const seen: string[] = [];
    live.onChange((next) => seen.push(next.tokens.map((t) => t.name).join()));
    writeFileSync(file, text(`${ops}, ${ci}`));
    const report = reloadConfigFile({ live, file, log });
    expect(report.applied).toBe(true);
    expect(report.changes.tokens.added).toEqual(['ci']);
    expect(live.current().tokens.map((t) => t.name)).toEqual(['ops', 'ci']);
    expect(seen).toEqual(['ops,ci']);
    // Nothing new: nothing replaced.
    expect(reloadConfigFile({ live, file, log }).applied).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('rejects an invalid file with file:line:col and keeps the running config', () => {
    const running = parseControllerConfig(text(ops), { file });
    const live = new LiveConfig(running);
    writeFileSync(file, text(`${ci}, { name: bad, role: king, hash: "${HASH('d')}" }`));
    let err: unknown;
    try {
      reloadConfigFile({ live, file, log });
    } catch (e) {
      err = e;
    }
    expect(isGantryError(err, 'GANTRY_ERR_CONFIG_REJECTED')).toBe(true);
    const e = err as Error & { status: number; details: { errors: { line: number }[] } };
    expect(e.status).toBe(400);
    expect(e.message).toMatch(
      new RegExp(`^${file.replace(/[.]/g, '\\.')}:4:\\d+: tokens\\[1\\]\\.role must be one of`),
    );
    expect(e.details.errors[0]?.line).toBe(4);
    expect(live.current()).toBe(running);
  });

  it('says there is nothing to re-read without a file', () => {
    const live = new LiveConfig(parseControllerConfig(text(ops), { file }));
    expect(() => reloadConfigFile({ live, file: undefined, log })).toThrow(
      expect.objectContaining({ code: 'GANTRY_ERR_CONFIG_NO_FILE', status: 409 }),
    );
  });
});
