/**
 * The pure parts of one-offs, the release phase and live logs: what the engine is asked to create,
 * when the release phase runs, how output is bounded and redacted, and how log frames print.
 */
import { describe, expect, it } from 'vitest';
import { logStreamLine } from '../../src/cli/commands/logs.js';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { oneOffSpec } from '../../src/deploy/one-off-spec.js';
import { OutputLines } from '../../src/deploy/output-lines.js';
import { releasePhaseDecision } from '../../src/deploy/release-phase.js';
import { StreamRedactor } from '../../src/deploy/stream-redactor.js';
import { runEventText } from '../../src/deploy/operations/run-command.js';
import { secretRedactor } from '../../src/release/redact-secrets.js';
import { instanceOf } from '../../src/runtime/docker/instance-of.js';
import {
  isLeftover,
  oneOffCreateOptions,
  oneOffName,
} from '../../src/runtime/docker/one-off-spec.js';

const SECRET = 'pa55-w0rd-Xy';
const spec = parseAppSpec(
  [
    'app: shop',
    'run: { env: { LOG_LEVEL: info }, resources: { memory: 256Mi } }',
    'release: { command: [bin/migrate, --all] }',
  ].join('\n'),
);

const one = oneOffSpec({
  spec,
  env: 'production',
  purpose: 'release',
  key: 'r-abc-1',
  command: spec.release!.command,
  revision: 'a'.repeat(40),
  image: 'reg/shop@sha256:00',
  host: 'local',
  config: { vars: { LOG_LEVEL: 'debug' }, secrets: { DATABASE_URL: SECRET } },
  release: 4,
});

describe('gantry.yaml release', () => {
  it('defaults the timeout to 5 minutes', () => {
    expect(spec.release).toEqual({ command: ['bin/migrate', '--all'], timeoutMs: 300_000 });
  });
  it('rejects an empty command', () => {
    expect(() => parseAppSpec('app: shop\nrelease: { command: [] }')).toThrow(/release/);
  });
});

describe('one-off create options', () => {
  const opts = oneOffCreateOptions(one, { deadline: 1_000, tty: false, stdin: false });

  it('is named after the key, so a second attempt finds the first', () => {
    expect(opts.name).toBe('gantry-shop--production--release-r-abc-1');
    expect(oneOffName({ app: 'shop', env: 'production', purpose: 'run', key: 'a/b' })).toMatch(
      /^gantry-shop--production--run-a-b-[0-9a-f]{8}$/,
    );
  });

  it("runs the command with the release's config, no port, no restart", () => {
    expect(opts.Cmd).toEqual(['bin/migrate', '--all']);
    expect(opts.Env).toContain('LOG_LEVEL=debug');
    expect(opts.Env).toContain(`DATABASE_URL=${SECRET}`);
    expect(opts.Env).toContain('GANTRY_RELEASE=v4');
    expect(opts.ExposedPorts).toBeUndefined();
    expect(opts.HostConfig?.PortBindings).toBeUndefined();
    expect(opts.HostConfig?.RestartPolicy).toEqual({ Name: 'no' });
    expect(opts.HostConfig?.Memory).toBe(256 * 1024 * 1024);
  });

  it('is labelled a one-off with a deadline, and never a secret', () => {
    expect(opts.Labels).toMatchObject({
      'dev.gantry.managed': 'true',
      'dev.gantry.app': 'shop',
      'dev.gantry.oneoff': 'release',
      'dev.gantry.deadline': '1000',
      'dev.gantry.release': '4',
    });
    expect(JSON.stringify(opts.Labels)).not.toContain(SECRET);
  });

  it('is never taken for an instance', () => {
    const info = {
      Id: 'x',
      Name: '/x',
      RestartCount: 0,
      State: { Status: 'running', ExitCode: 0, StartedAt: '' },
      Config: { Labels: { ...opts.Labels, 'dev.gantry.slot': 's' }, Image: one.image },
      NetworkSettings: { Ports: null },
    };
    expect(instanceOf(info, 'local')).toBeUndefined();
  });

  it.each([
    ['past its deadline', { 'dev.gantry.deadline': '999' }, 1000, true],
    ['within it', { 'dev.gantry.deadline': '1001' }, 1000, false],
    ['without one', {}, 1000, false],
  ])('a leftover %s: %s', (_name, labels, now, leftover) => {
    expect(isLeftover(labels, now)).toBe(leftover);
  });
});

describe('release phase decision', () => {
  it.each([
    ['a deploy runs it', 'deploy', undefined, true],
    ['a rollback skips it', 'rollback', undefined, false],
    ['an auto-rollback skips it', 'auto-rollback', undefined, false],
    [
      'a resumed deploy whose phase succeeded skips it',
      'deploy',
      { exitCode: 0, timedOut: false, durationMs: 1, finishedAt: '' },
      false,
    ],
  ] as const)('%s', (_name, kind, releasePhase, run) => {
    expect(releasePhaseDecision(spec, { kind, releasePhase }).run).toBe(run);
  });
  it.each([
    {
      name: 'a scale change',
      rec: { to: { sha: 'a', image: 'i', release: 3, instancesOf: 2 } },
      why: 'a scale change runs the release that already ran it',
    },
    {
      name: 'a restart',
      rec: { plan: { restart: ['web'] } },
      why: 'a restart runs the release that already ran it',
    },
  ])('skips the command for $name, saying why', ({ rec, why }) => {
    expect(releasePhaseDecision(spec, { kind: 'deploy', ...rec })).toEqual({ run: false, why });
  });
  it('an app without a release phase runs none, silently', () => {
    expect(releasePhaseDecision(parseAppSpec('app: x'), { kind: 'deploy' })).toEqual({
      run: false,
    });
  });
});

describe('command output', () => {
  it('is split into lines, redacted, capped, with the tail kept', () => {
    const passed: string[] = [];
    const out = new OutputLines(secretRedactor([SECRET]), {
      keep: 2,
      tail: 2,
      onLine: (l) => passed.push(l),
    });
    out.push('one\ntw');
    out.push(`o ${SECRET}\nthree\nfour`);
    out.end();
    expect(passed).toEqual(['one', 'two ***']);
    expect(out.tail()).toEqual(['three', 'four']);
    expect(out.droppedLines).toBe(2);
  });

  it('a streamed secret split across chunks is still redacted', () => {
    const r = new StreamRedactor([SECRET]);
    const shown = [r.push('url=pa55-'), r.push('w0rd-Xy done'), r.end()].join('');
    expect(shown).toBe('url=*** done');
    expect(r.push('pa55 is not it')).toBe('pa55 is not it');
  });

  it('a run is recorded in one line', () => {
    expect(
      runEventText({
        by: 'ci',
        argv: ['rake', 'db:seed'],
        exitCode: 7,
        timedOut: false,
        durationMs: 1234,
        release: 3,
      }),
    ).toBe('ci ran rake db:seed (v3): exit 7 in 1.2 s');
  });
});

describe('log stream lines', () => {
  const frame = (event: string, data: object) => ({ event, data: JSON.stringify(data) });
  it.each([
    [
      'a line, with its slot',
      frame('line', { env: 'p', slot: 'r1-0', line: 'GET /' }),
      false,
      'r1-0 | GET /',
    ],
    [
      'a line, with env and slot',
      frame('line', { env: 'p', slot: 'r1-0', line: 'x' }),
      true,
      'p/r1-0 | x',
    ],
    [
      'a newcomer',
      frame('joined', { env: 'p', slot: 'r2-0', revision: 'abcdef12' }),
      false,
      '--- r2-0 joined (abcdef1)',
    ],
    ['one gone', frame('left', { env: 'p', slot: 'r1-0' }), false, '--- r1-0 left'],
    ['the end', frame('end', {}), false, undefined],
  ])('%s', (_name, f, withEnv, text) => {
    expect(logStreamLine(f, withEnv)).toBe(text);
  });
});
