/**
 * The formation (`gantry scale`): what a scale may ask for, when a release shares the running
 * release's instances, how releases read, and the CLI's side of scale and restart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/args.js';
import { configText } from '../../src/cli/config-format.js';
import { envStatusBlock, historyKind } from '../../src/cli/format.js';
import { outcomeLines } from '../../src/cli/progress.js';
import {
  formationArgs,
  restartText,
  scaleText,
  type ScaleAnswer,
} from '../../src/cli/scale-format.js';
import type { AppSpec } from '../../src/config/app-spec.js';
import { GantryError } from '../../src/errors.js';
import type { ConfigSnapshot } from '../../src/release/config-store.js';
import {
  checkFormation,
  declaredProcesses,
  instancesOfFor,
  sameInstances,
} from '../../src/release/formation.js';
import { describeRelease, type ReleaseChange } from '../../src/release/releases.js';

function thrown(f: () => void): GantryError | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e as GantryError;
  }
}

describe('checkFormation', () => {
  const declared = ['web', 'worker'];
  const cases: { name: string; requested: Record<string, number>; error?: RegExp }[] = [
    { name: 'declared processes within bounds', requested: { web: 5, worker: 2 } },
    { name: 'zero replicas stops a process', requested: { worker: 0 } },
    { name: 'exactly the cap', requested: { web: 10 } },
    { name: 'nothing named', requested: {}, error: /at least one process/ },
    {
      name: 'an undeclared process names the declared ones',
      requested: { web: 2, clock: 1 },
      error: /^clock is not a process of this app; it declares web, worker$/,
    },
    { name: 'above the cap', requested: { web: 11 }, error: /from 0 to 10 \(deploy\.maxReplicas/ },
    { name: 'negative', requested: { web: -1 }, error: /whole number from 0 to 10/ },
    { name: 'fractional', requested: { web: 1.5 }, error: /whole number/ },
    { name: 'uppercase name', requested: { Web: 1 }, error: /"Web" is not a process name/ },
    {
      name: 'name too long',
      requested: { [`w${'x'.repeat(20)}`]: 1 },
      error: /not a process name/,
    },
    { name: 'name starting with a digit', requested: { '1web': 1 }, error: /not a process name/ },
  ];
  it.each(cases)('$name', ({ requested, error }) => {
    const e = thrown(() => checkFormation(requested, declared, 10));
    if (!error) return expect(e).toBeUndefined();
    expect(e?.code).toBe('GANTRY_ERR_SCALE_INVALID');
    expect(e?.message).toMatch(error);
  });
});

describe('declaredProcesses', () => {
  const spec = (processes: unknown) => ({ processes }) as unknown as AppSpec;
  const cases: { name: string; processes: unknown; want: string[] }[] = [
    { name: 'the single-process form declares web', processes: undefined, want: ['web'] },
    {
      name: 'named entries, in order',
      processes: [{ name: 'web' }, { name: 'worker' }],
      want: ['web', 'worker'],
    },
    { name: 'a map of process types', processes: { web: {}, clock: {} }, want: ['web', 'clock'] },
    { name: 'an empty list is the single-process form', processes: [], want: ['web'] },
  ];
  it.each(cases)('$name', ({ processes, want }) => {
    expect(declaredProcesses(spec(processes))).toEqual(want);
  });
});

describe('instancesOfFor: a release that differs only in scale shares the running instances', () => {
  const config = (c: Partial<ConfigSnapshot> = {}): ConfigSnapshot => ({
    vars: { A: '1' },
    secrets: { S: 2 },
    ...c,
  });
  const current = { version: 7, image: 'r/app@sha256:a', config: config({ scale: { web: 2 } }) };
  const cases: {
    name: string;
    next: { image: string; config: ConfigSnapshot };
    current?: typeof current & { instancesOf?: number };
    want: number | undefined;
  }[] = [
    {
      name: 'scale only: the current release',
      next: { image: current.image, config: config({ scale: { web: 5 } }) },
      current,
      want: 7,
    },
    {
      name: 'scale again: the release whose instances the current one runs on',
      next: { image: current.image, config: config({ scale: { web: 1 } }) },
      current: { ...current, instancesOf: 4 },
      want: 4,
    },
    {
      name: 'a rollback to a release with the same image and config (scale absent)',
      next: { image: current.image, config: config() },
      current,
      want: 7,
    },
    {
      name: 'another image',
      next: { image: 'r/app@sha256:b', config: config() },
      current,
      want: undefined,
    },
    {
      name: 'a var changed',
      next: { image: current.image, config: config({ vars: { A: '2' } }) },
      current,
      want: undefined,
    },
    {
      name: 'a var added',
      next: { image: current.image, config: config({ vars: { A: '1', B: '1' } }) },
      current,
      want: undefined,
    },
    {
      name: 'a new secret version',
      next: { image: current.image, config: config({ secrets: { S: 3 } }) },
      current,
      want: undefined,
    },
    { name: 'nothing runs yet', next: { image: current.image, config: config() }, want: undefined },
  ];
  it.each(cases)('$name', ({ next, current: cur, want }) => {
    expect(instancesOfFor(next, cur)).toBe(want);
  });

  it('sameInstances ignores scale and key order, and is symmetric', () => {
    const record = fc.dictionary(
      fc.constantFrom('A', 'B', 'C', 'D'),
      fc.integer({ min: 0, max: 3 }),
    );
    const release = fc.record({
      image: fc.constantFrom('i1', 'i2'),
      config: fc.record({
        vars: fc.dictionary(fc.constantFrom('A', 'B', 'C'), fc.constantFrom('x', 'y')),
        secrets: record,
        scale: record,
      }),
    });
    fc.assert(
      fc.property(release, release, record, (a, b, scale) => {
        expect(sameInstances(a, b)).toBe(sameInstances(b, a));
        const reordered = {
          image: a.image,
          config: {
            vars: Object.fromEntries(Object.entries(a.config.vars).reverse()),
            secrets: Object.fromEntries(Object.entries(a.config.secrets).reverse()),
            scale,
          },
        };
        expect(sameInstances(a, reordered)).toBe(true);
      }),
    );
  });
});

describe('describeRelease', () => {
  const cases: { name: string; change: ReleaseChange; want: string }[] = [
    {
      name: 'build',
      change: { kind: 'build', sha: 'a'.repeat(40) },
      want: `v3: deploy ${'a'.repeat(12)} by ada`,
    },
    {
      name: 'config',
      change: { kind: 'config', set: ['LOG_LEVEL'], secrets: ['DB'], unset: ['OLD'] },
      want: 'v3: set LOG_LEVEL; set DB (secret); unset OLD by ada',
    },
    { name: 'rollback', change: { kind: 'rollback', to: 1 }, want: 'v3: rollback to v1 by ada' },
    {
      name: 'promote',
      change: { kind: 'promote', from: 'staging' },
      want: 'v3: promote from staging by ada',
    },
    {
      name: 'scale, in the order named',
      change: { kind: 'scale', processes: { web: 5, worker: 2 } },
      want: 'v3: scale web=5, worker=2 by ada',
    },
  ];
  it.each(cases)('$name', ({ change, want }) => {
    expect(describeRelease({ version: 3, change, by: 'ada', sha: 'a'.repeat(40) })).toBe(want);
  });
});

describe('the CLI side', () => {
  it.each([
    {
      name: 'two processes',
      argv: ['scale', 'hello', 'web=5', 'worker=2'],
      want: { web: 5, worker: 2 },
    },
    {
      name: 'to zero, with an env',
      argv: ['scale', 'hello', 'worker=0', '--env', 'staging'],
      want: { worker: 0 },
    },
  ])('parses scale: $name', ({ argv, want }) => {
    const p = parseCommandLine(argv);
    expect(p.ok && p.command).toMatchObject({ verb: 'scale', app: 'hello', processes: want });
  });

  it.each([
    { argv: ['scale', 'hello'], error: /PROCESS=N/ },
    { argv: ['scale', 'hello', 'web'], error: /PROCESS=N…, not "web"/ },
    { argv: ['scale', 'hello', 'web=-1'], error: /whole number, not "-1"/ },
    { argv: ['scale', 'hello', 'web=two'], error: /whole number, not "two"/ },
    { argv: ['scale', 'hello', 'web=1', 'web=2'], error: /web is given twice/ },
    { argv: ['restart', 'hello', 'web'], error: /takes no argument "web"/ },
  ])('refuses $argv', ({ argv, error }) => {
    const p = parseCommandLine(argv);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.error).toMatch(error);
  });

  it('parses restart with and without --process', () => {
    const all = parseCommandLine(['restart', 'hello']);
    expect(all.ok && all.command).toEqual({
      verb: 'restart',
      app: 'hello',
      env: undefined,
      process: undefined,
    });
    const one = parseCommandLine(['restart', 'hello', '--process', 'worker', '--no-wait']);
    expect(one.ok && one.command).toMatchObject({ verb: 'restart', process: 'worker' });
    expect(one.ok && one.common.wait).toBe(false);
  });

  it('formationArgs keeps the order given', () => {
    expect(Object.keys(formationArgs(['worker=1', 'web=3']))).toEqual(['worker', 'web']);
  });

  it.each<{ name: string; answer: ScaleAnswer; want: string }>([
    {
      name: 'a release rolling out',
      answer: {
        app: 'hello',
        env: 'production',
        processes: { web: 5 },
        release: { version: 8, line: 'v8: scale web=5 by ci' },
        rolloutId: 'r-1-a',
      },
      want: 'scaled web=5 on hello/production: release v8, rollout r-1-a',
    },
    {
      name: 'nothing runs yet',
      answer: {
        app: 'hello',
        env: 'staging',
        processes: { web: 2, worker: 1 },
        release: null,
        rolloutId: null,
      },
      want: 'scaled web=2, worker=1 on hello/staging; nothing runs there yet: the next deploy takes it',
    },
  ])('scaleText: $name', ({ answer, want }) => {
    expect(scaleText(answer)).toBe(want);
  });

  it.each([
    {
      processes: [],
      release: 4,
      want: 'restarting every process of hello/production (release v4): rollout r-2-b',
    },
    {
      processes: ['worker'],
      release: null,
      want: 'restarting worker of hello/production: rollout r-2-b',
    },
  ])('restartText $processes', ({ processes, release, want }) => {
    expect(
      restartText({ app: 'hello', env: 'production', processes, release, rolloutId: 'r-2-b' }),
    ).toBe(want);
  });

  it.each([
    { kind: 'deploy', via: 'restart', want: 'restart' },
    { kind: 'deploy', via: 'scale', want: 'scale' },
    { kind: 'deploy', via: 'config', want: 'deploy' },
    { kind: 'rollback', via: 'rollback', want: 'rollback' },
    { kind: 'deploy', via: undefined, want: 'deploy' },
  ])('history KIND of a $kind via $via is $want', ({ kind, via, want }) => {
    expect(historyKind({ kind, trigger: { kind: 'manual', actor: 'ada', via } })).toBe(want);
  });

  it('a restart ends as a restart, not a deploy', () => {
    const r = {
      id: 'r-1-a',
      app: 'hello',
      env: 'production',
      kind: 'deploy',
      trigger: { kind: 'manual' as const, actor: 'ci', via: 'restart' },
      to: { sha: 'b'.repeat(40), image: 'i' },
      from: { sha: 'b'.repeat(40), image: 'i' },
      phase: 'succeeded',
      outcome: 'succeeded',
      createdAt: '2030-01-01T00:00:00.000Z',
      finishedAt: '2030-01-01T00:00:09.900Z',
    };
    expect(outcomeLines(r)).toEqual([
      `✔ restart r-1-a succeeded in 9.9s: hello/production now runs ${'b'.repeat(12)}`,
    ]);
  });

  it('gantry config shows the formation with who scaled it', () => {
    const now = Date.parse('2030-01-01T12:00:00Z');
    const text = configText(
      {
        app: 'hello',
        env: 'production',
        release: 3,
        vars: {},
        secrets: {},
        scale: { web: { replicas: 5, by: 'ada', at: new Date(now - 120_000).toISOString() } },
      },
      now,
    );
    expect(text.split('\n').slice(-1)).toEqual(['scale web=5 (by ada 2m ago)']);
  });

  it('gantry status shows ready/desired per process type when the controller reports them', () => {
    const text = envStatusBlock(
      'hello',
      {
        app: 'hello',
        env: 'production',
        current: null,
        status: {
          sync: { status: 'synced', reasons: [] },
          health: { status: 'progressing', detail: '4/5 healthy' },
          processes: [
            { name: 'web', desired: 3, ready: 3 },
            { name: 'worker', desired: 2, ready: 1 },
          ],
          instances: [
            {
              slot: 'r-1-a-0',
              host: 'local',
              revision: 'a'.repeat(40),
              state: 'running',
              verdict: 'healthy',
              routed: true,
              process: 'web',
            },
            {
              slot: 'r-1-a-3',
              host: 'local',
              revision: 'a'.repeat(40),
              state: 'running',
              verdict: 'starting',
              routed: false,
              process: 'worker',
            },
          ],
          selfHeal: true,
          orphaned: null,
          observedAt: '',
        },
      },
      [],
    );
    expect(text.split('\n')).toEqual([
      'production  (self-heal on, never observed)',
      '  sync:      synced',
      '  health:    progressing: 4/5 healthy; r-1-a-3 starting',
      '  processes: web 3/3, worker 1/2',
      '  instances:',
      '    PROCESS  SLOT     REVISION      HOST   STATE    VERDICT   ROUTED  DETAIL',
      '    web      r-1-a-0  aaaaaaaaaaaa  local  running  healthy   yes     -',
      '    worker   r-1-a-3  aaaaaaaaaaaa  local  running  starting  no      -',
    ]);
  });
});
