import { describe, expect, it } from 'vitest';
import { parseCommandLine, untilTime } from '../../src/cli/args.js';

describe('gantry command line', () => {
  it.each([
    ['no verb is help', [], { verb: 'help' }],
    ['--help anywhere', ['history', 'x', '--help'], { verb: 'help' }],
    ['serve default config', ['serve'], { verb: 'serve', config: 'gantry.config.yaml' }],
    ['serve -c', ['serve', '-c', 'x.yaml'], { verb: 'serve', config: 'x.yaml' }],
    ['status', ['status', 'hello'], { verb: 'status', app: 'hello' }],
    ['apps:release', ['apps:release', 'hello'], { verb: 'apps:release', app: 'hello' }],
    [
      'history with every filter',
      ['history', 'hello', '--env', 'staging', '--pr', '42', '--sha', 'abc1234', '--limit', '5'],
      { verb: 'history', app: 'hello', env: 'staging', pr: 42, sha: 'abc1234', limit: 5 },
    ],
    [
      'history --pr #42',
      ['history', 'hello', '--pr', '#42'],
      { verb: 'history', app: 'hello', pr: 42 },
    ],
    [
      'deploy',
      ['deploy', 'hello', 'main', '-e', 'prod'],
      { verb: 'deploy', app: 'hello', ref: 'main', env: 'prod' },
    ],
    ['rollback', ['rollback', 'hello'], { verb: 'rollback', app: 'hello' }],
    [
      'rollback --to',
      ['rollback', 'hello', '--to', 'abc'],
      { verb: 'rollback', app: 'hello', to: 'abc' },
    ],
    [
      'promote',
      ['promote', 'hello', '--from', 'staging', '--to', 'production'],
      { verb: 'promote', app: 'hello', from: 'staging', to: 'production' },
    ],
    [
      'lock',
      ['lock', 'hello', '--env', 'production', '--reason', 'launch', '--until', '2h'],
      { verb: 'lock', app: 'hello', env: 'production', reason: 'launch', until: '2h' },
    ],
    [
      'unlock',
      ['unlock', 'hello', '--env', 'production'],
      { verb: 'unlock', app: 'hello', env: 'production' },
    ],
    ['unpin', ['unpin', 'hello'], { verb: 'unpin', app: 'hello' }],
    ['logs -n', ['logs', 'hello', '-n', '20'], { verb: 'logs', app: 'hello', lines: 20 }],
    [
      'logs --follow --since',
      ['logs', 'hello', '-e', 'production', '--since', '10m', '-f'],
      { verb: 'logs', app: 'hello', env: 'production', since: '10m', follow: true },
    ],
    ['logs without --follow', ['logs', 'hello'], { verb: 'logs', app: 'hello', follow: false }],
    [
      'run with -- and flags of its own',
      ['run', 'hello', '--env', 'staging', '--', 'sh', '-c', 'ls --all -e x'],
      { verb: 'run', app: 'hello', env: 'staging', command: ['sh', '-c', 'ls --all -e x'] },
    ],
    [
      'run without --',
      ['run', 'hello', 'rake', 'db:seed'],
      { verb: 'run', app: 'hello', command: ['rake', 'db:seed'] },
    ],
    [
      'run --timeout',
      ['run', 'hello', '--timeout', '2m', '--', 'sleep', '1'],
      { verb: 'run', app: 'hello', command: ['sleep', '1'], timeoutSeconds: 120 },
    ],
    [
      'run: flags after -- belong to the command',
      ['run', 'hello', '--', 'env', '--help'],
      { verb: 'run', app: 'hello', command: ['env', '--help'] },
    ],
    [
      'build-log -f',
      ['build-log', 'b-1-2', '-f'],
      { verb: 'build-log', buildId: 'b-1-2', follow: true },
    ],
    ['retry', ['retry', 'r-1-2'], { verb: 'retry', rolloutId: 'r-1-2' }],
    ['abort', ['abort', 'r-1-2'], { verb: 'abort', rolloutId: 'r-1-2' }],
    [
      'rollout --follow',
      ['rollout', 'r-1-2', '--follow'],
      { verb: 'rollout', rolloutId: 'r-1-2', follow: true },
    ],
  ])('%s', (_name, argv, expected) => {
    const parsed = parseCommandLine(argv);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.command).toMatchObject(expected);
  });

  it('collects client flags for every verb', () => {
    const parsed = parseCommandLine([
      'rollback',
      'hello',
      '--json',
      '--no-wait',
      '--url',
      'http://x',
      '--token',
      't',
    ]);
    expect(parsed).toMatchObject({
      ok: true,
      common: { json: true, wait: false, url: 'http://x', token: 't' },
    });
    expect(parseCommandLine(['apps'])).toMatchObject({
      ok: true,
      common: { json: false, wait: true },
    });
  });

  it.each([
    ['an unknown verb', ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown flag', ['apps', '--nope'], /Unknown option '--nope'/],
    ['a flag of another verb', ['status', 'hello', '--pr', '1'], /status does not take --pr/],
    ['a missing argument', ['deploy', 'hello'], /deploy needs REF/],
    ['a missing app', ['history'], /history needs APP/],
    ['an extra argument', ['status', 'a', 'b'], /takes no argument "b"/],
    ['a PR that is not a number', ['history', 'a', '--pr', 'x'], /--pr must be a whole number/],
    ['zero lines', ['logs', 'a', '--lines', '0'], /--lines must be a whole number from 1/],
    ['a --since that is no time', ['logs', 'a', '--since', 'yesterday'], /--since must be/],
    ['run without a command', ['run', 'a'], /run needs a command/],
    ['run without a command after --', ['run', 'a', '--'], /run needs a command/],
    ['a --timeout too long', ['run', 'a', '--timeout', '13h', '--', 'x'], /--timeout must be/],
    ['--follow on run', ['run', 'a', '-f', '--', 'x'], /run does not take --follow/],
    [
      'promote without --to',
      ['promote', 'a', '--from', 'staging'],
      /promote needs --from ENV and --to ENV/,
    ],
    ['lock without a reason', ['lock', 'a', '--env', 'p'], /lock needs --reason/],
    ['lock with a blank reason', ['lock', 'a', '--reason', '  '], /lock needs --reason/],
    ['a string flag without value', ['history', 'a', '--env'], /argument missing/],
  ])('rejects %s', (_name, argv, message) => {
    const parsed = parseCommandLine(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });
});

describe('--until', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['30m', '2026-01-01T00:30:00.000Z'],
    ['2h', '2026-01-01T02:00:00.000Z'],
    ['1d', '2026-01-02T00:00:00.000Z'],
    ['2026-01-31T18:00:00Z', '2026-01-31T18:00:00.000Z'],
  ])('%s', (input, expected) => {
    expect(untilTime(input, now)).toBe(expected);
  });
  it('rejects what is neither a time nor a duration', () => {
    expect(() => untilTime('tomorrowish', now)).toThrow(/--until must be a time/);
  });
});
