import { describe, expect, it } from 'vitest';
import { keyValues, parseCommandLine } from '../../src/cli/args.js';
import {
  configChangeText,
  configText,
  importText,
  releasesText,
  type ConfigAnswer,
  type ConfigChangeAnswer,
  type ReleaseAnswer,
} from '../../src/cli/config-format.js';
import { chooseReleaseTarget, releaseRef } from '../../src/deploy/operations/release-target.js';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

describe('configText', () => {
  const base: ConfigAnswer = { app: 'hello', env: 'production', release: 7, vars: {}, secrets: {} };
  const cases: { name: string; input: Partial<ConfigAnswer>; want: string }[] = [
    {
      name: 'vars with values and secrets as who set them when, in name order',
      input: {
        vars: { LOG_LEVEL: { value: 'debug', by: 'ci', at: ago(60) } },
        secrets: { DATABASE_URL: { set: true, version: 3, by: 'ada', at: ago(120) } },
      },
      want: [
        'hello/production config (v7 serving)',
        'DATABASE_URL  (secret, set by ada 2m ago)',
        'LOG_LEVEL     debug',
      ].join('\n'),
    },
    {
      name: 'a value with a line break or an empty value is quoted',
      input: {
        release: null,
        vars: {
          MOTD: { value: 'hi\nthere', by: 'ci', at: ago(1) },
          EMPTY: { value: '', by: 'ci', at: ago(1) },
        },
      },
      want: [
        'hello/production config (nothing deployed yet)',
        'EMPTY  ""',
        'MOTD   "hi\\nthere"',
      ].join('\n'),
    },
    {
      name: 'nothing set says how to set it',
      input: {},
      want: [
        'hello/production config (v7 serving)',
        'no config vars or secrets (set them with: gantry config:set hello KEY=VALUE --env production)',
      ].join('\n'),
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(configText({ ...base, ...c.input }, NOW)).toBe(c.want));
  }
});

describe('configChangeText and importText', () => {
  const base: ConfigChangeAnswer = {
    app: 'hello',
    env: 'production',
    changed: { set: [], secrets: [], unset: [] },
    release: { version: 8, line: 'v8: …' },
    rolloutId: 'r-abc-1',
  };
  const cases: { name: string; input: Partial<ConfigChangeAnswer>; want: string }[] = [
    {
      name: 'vars and secrets, with the release and its rollout',
      input: { changed: { set: ['LOG_LEVEL'], secrets: ['DATABASE_URL'], unset: [] } },
      want: 'set LOG_LEVEL; set DATABASE_URL (secret) on hello/production: release v8, rollout r-abc-1',
    },
    {
      name: 'unset',
      input: { changed: { set: [], secrets: [], unset: ['A', 'B'] } },
      want: 'unset A, B on hello/production: release v8, rollout r-abc-1',
    },
    {
      name: 'nothing runs yet',
      input: { changed: { set: ['X'], secrets: [], unset: [] }, release: null, rolloutId: null },
      want: 'set X on hello/production; nothing runs there yet: the next deploy takes it',
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(configChangeText({ ...base, ...c.input })).toBe(c.want));
  }
  it('import names what was found and what was not', () => {
    expect(importText({ ...base, imported: ['API_KEY'], missing: ['SMTP_URL'] })).toEqual([
      'imported API_KEY',
      "not set in the controller's environment: GANTRY_SECRET_SMTP_URL",
    ]);
  });
});

describe('releasesText', () => {
  const rel = (
    version: number,
    line: string,
    by: string,
    s: number,
    current = false,
  ): ReleaseAnswer => ({
    version,
    line,
    by,
    sha: '1a2b3c4d5e6f7a8b9c0d',
    createdAt: ago(s),
    current,
  });
  const cases: { name: string; releases: ReleaseAnswer[]; want: string }[] = [
    {
      name: 'newest first, the current marked, the change without its number and author',
      releases: [
        rel(4, 'v4: rollback to v2 by ci', 'ci', 5, true),
        rel(3, 'v3: set DATABASE_URL (secret) by ada', 'ada', 120),
        rel(2, 'v2: set LOG_LEVEL by ci', 'ci', 3600),
        rel(1, 'v1: deploy 1a2b3c4d5e6f by webhook github', 'webhook github', 7200),
      ],
      want: [
        '   RELEASE  CHANGE                     BY              WHEN    COMMIT',
        '*  v4       rollback to v2             ci              5s ago  1a2b3c4d5e6f',
        '   v3       set DATABASE_URL (secret)  ada             2m ago  1a2b3c4d5e6f',
        '   v2       set LOG_LEVEL              ci              1h ago  1a2b3c4d5e6f',
        '   v1       deploy 1a2b3c4d5e6f        webhook github  2h ago  1a2b3c4d5e6f',
      ].join('\n'),
    },
    { name: 'none yet', releases: [], want: 'no releases of hello/production yet' },
  ];
  for (const c of cases) {
    it(c.name, () =>
      expect(
        releasesText({ app: 'hello', env: 'production', current: 4, releases: c.releases }, NOW),
      ).toBe(c.want),
    );
  }
});

describe('config verbs on the command line', () => {
  const cases: { name: string; argv: string[]; want: unknown }[] = [
    {
      name: 'config:set with pairs and --secret',
      argv: ['config:set', 'hello', 'A=1', 'URL=postgres://u:p@h/db?x=1', '--secret', '-e', 'prod'],
      want: {
        verb: 'config:set',
        app: 'hello',
        env: 'prod',
        values: { A: '1', URL: 'postgres://u:p@h/db?x=1' },
        secret: true,
      },
    },
    {
      name: 'config:unset takes keys',
      argv: ['config:unset', 'hello', 'A', 'B'],
      want: { verb: 'config:unset', app: 'hello', env: undefined, keys: ['A', 'B'] },
    },
    {
      name: 'config:import-env without names',
      argv: ['config:import-env', 'hello', '--env', 'production'],
      want: { verb: 'config:import-env', app: 'hello', env: 'production', names: [] },
    },
    {
      name: 'releases with a limit',
      argv: ['releases', 'hello', '--limit', '5'],
      want: { verb: 'releases', app: 'hello', env: undefined, limit: 5 },
    },
    { name: 'secrets:rotate', argv: ['secrets:rotate'], want: { verb: 'secrets:rotate' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = parseCommandLine(c.argv);
      expect(p.ok && p.command).toEqual(c.want);
    });
  }

  const errors: { name: string; argv: string[]; want: RegExp }[] = [
    { name: 'config:set without pairs', argv: ['config:set', 'hello'], want: /KEY=VALUE/ },
    { name: 'config:unset without keys', argv: ['config:unset', 'hello'], want: /KEY/ },
    { name: 'config takes no extra argument', argv: ['config', 'hello', 'x'], want: /no argument/ },
    {
      name: '--secret only on config:set',
      argv: ['config', 'hello', '--secret'],
      want: /--secret/,
    },
  ];
  for (const c of errors) {
    it(`refuses ${c.name}`, () => {
      const p = parseCommandLine(c.argv);
      expect(p.ok).toBe(false);
      if (!p.ok) expect(p.error).toMatch(c.want);
    });
  }

  it('a pair without "=" is refused without repeating what was typed (it may be a secret)', () => {
    expect(() => keyValues(['DATABASE_URL', 'postgres://u:hunter2@h/db'])).toThrow(
      'config:set takes KEY=VALUE…; pair 1 has no "="',
    );
    try {
      keyValues(['A=1', 'hunter2']);
    } catch (e) {
      expect(String(e)).not.toContain('hunter2');
    }
    expect(() => keyValues(['A=1', 'A=2'])).toThrow('A is given twice');
  });
});

describe('rollback --to vN', () => {
  const rec = (id: string, release: number, outcome = 'succeeded') => ({
    id,
    outcome: outcome as 'succeeded',
    to: { sha: 'a'.repeat(40), image: 'img@sha256:1', release },
  });
  const records = [rec('r4', 4), rec('r3', 3, 'failed'), rec('r2', 2), rec('r1', 1)];
  const current = { sha: 'a'.repeat(40), rolloutId: 'r4', release: 4 };
  const cases: { name: string; version: number; want: unknown }[] = [
    { name: 'an earlier release that ran', version: 2, want: { ok: true, rolloutId: 'r2' } },
    {
      name: 'the release serving now',
      version: 4,
      want: { ok: false, why: 'v4 is what runs now' },
    },
    {
      name: 'a release whose rollout failed never served',
      version: 3,
      want: { ok: false, why: 'v3 never ran successfully in this environment' },
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      expect(chooseReleaseTarget({ records, current }, c.version)).toMatchObject(c.want as object),
    );
  }
  it('reads vN and nothing else as a release', () => {
    expect([
      releaseRef('v12'),
      releaseRef('V3'),
      releaseRef('v0'),
      releaseRef('abc1'),
      releaseRef(undefined),
    ]).toEqual([12, 3, undefined, undefined, undefined]);
  });
});
