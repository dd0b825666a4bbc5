import { describe, expect, it } from 'vitest';
import { appSpecRuleIssues } from '../../src/config/app-spec-rules.js';
import { dirSegments, relativeSegments, resolveInside } from '../../src/config/repo-path.js';
import { parseDuration, parseMemory } from '../../src/config/units.js';

describe('parseDuration', () => {
  it.each<{ text: string; ms: number | undefined }>([
    { text: '0s', ms: 0 },
    { text: '500ms', ms: 500 },
    { text: '2s', ms: 2000 },
    { text: '1.5s', ms: 1500 },
    { text: '1.1s', ms: 1100 },
    { text: '5m', ms: 300_000 },
    { text: '2h', ms: 7_200_000 },
    { text: '1m30s', ms: 90_000 },
    { text: '1h1m1s1ms', ms: 3_661_001 },
    { text: '0.4ms', ms: 0 },
    { text: '', ms: undefined },
    { text: '2', ms: undefined },
    { text: '2 s', ms: undefined },
    { text: '-1s', ms: undefined },
    { text: '.5s', ms: undefined },
    { text: '2S', ms: undefined },
    { text: '1d', ms: undefined },
    { text: '2s ', ms: undefined },
    { text: `${'9'.repeat(20)}h`, ms: undefined },
  ])('$text → $ms', ({ text, ms }) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('parseMemory', () => {
  it.each<{ text: string; bytes: number | undefined }>([
    { text: '256Mi', bytes: 268_435_456 },
    { text: '1Gi', bytes: 1_073_741_824 },
    { text: '512M', bytes: 512_000_000 },
    { text: '64k', bytes: 64_000 },
    { text: '64K', bytes: 64_000 },
    { text: '1Ki', bytes: 1024 },
    { text: '1Ti', bytes: 2 ** 40 },
    { text: '2T', bytes: 2e12 },
    { text: '1.5Gi', bytes: 1_610_612_736 },
    { text: '1.1k', bytes: 1100 },
    { text: '0.0001Ki', bytes: 1 },
    { text: '512m', bytes: undefined },
    { text: '1g', bytes: undefined },
    { text: '512MB', bytes: undefined },
    { text: '512', bytes: undefined },
    { text: 'Mi', bytes: undefined },
    { text: '-1Mi', bytes: undefined },
    { text: `${'9'.repeat(20)}Ti`, bytes: undefined },
  ])('$text → $bytes', ({ text, bytes }) => {
    expect(parseMemory(text)).toBe(bytes);
  });
});

describe('resolveInside', () => {
  it.each<{ name: string; base: string[]; rel: string; result: string[] | string }>([
    { name: 'dot is the base', base: [], rel: '.', result: [] },
    { name: 'plain file', base: [], rel: 'Dockerfile', result: ['Dockerfile'] },
    { name: 'normalizes ./x/../y', base: [], rel: './x/../y', result: ['y'] },
    { name: 'collapses slashes', base: [], rel: 'a//b/', result: ['a', 'b'] },
    {
      name: 'resolves from the base',
      base: ['svc', 'api'],
      rel: 'web',
      result: ['svc', 'api', 'web'],
    },
    { name: 'climbs within the root', base: ['svc', 'api'], rel: '../../lib', result: ['lib'] },
    {
      name: 'climbs out of the root',
      base: ['svc'],
      rel: '../../x',
      result: 'must stay inside the repo ("../../x" climbs out of it)',
    },
    {
      name: 'climbs out then back in',
      base: [],
      rel: '../main/x',
      result: 'must stay inside the repo ("../main/x" climbs out of it)',
    },
    {
      name: 'absolute',
      base: [],
      rel: '/etc/passwd',
      result: 'must be a relative path inside the repo',
    },
    { name: 'backslash', base: [], rel: '..\\x', result: 'must use "/" as separator, not "\\"' },
    { name: 'NUL', base: [], rel: 'a\0b', result: 'must not contain control characters' },
    { name: 'newline', base: [], rel: 'a\nb', result: 'must not contain control characters' },
    { name: 'empty', base: [], rel: '', result: 'must not be empty' },
  ])('$name', ({ base, rel, result }) => {
    const resolved = resolveInside(base, rel, 'repo');
    expect(resolved).toEqual(
      typeof result === 'string' ? { ok: false, problem: result } : { ok: true, segments: result },
    );
  });

  it.each<{ file: string; dir: string[] }>([
    { file: 'gantry.yaml', dir: [] },
    { file: './gantry.yaml', dir: [] },
    { file: 'services/api/gantry.yaml', dir: ['services', 'api'] },
    { file: 'a/./b//gantry.yaml', dir: ['a', 'b'] },
    { file: '../outside/gantry.yaml', dir: [] },
  ])('dirSegments($file)', ({ file, dir }) => {
    expect(dirSegments(file)).toEqual(dir);
  });

  it.each<{ from: string[]; to: string[]; rel: string }>([
    { from: [], to: [], rel: '.' },
    { from: [], to: ['a', 'b'], rel: 'a/b' },
    { from: ['svc', 'api'], to: ['svc', 'api', 'src'], rel: 'src' },
    { from: ['svc', 'api'], to: ['svc', 'shared'], rel: '../shared' },
    { from: ['svc', 'api'], to: [], rel: '../..' },
    { from: ['a'], to: ['a'], rel: '.' },
  ])('relativeSegments($from, $to) = $rel', ({ from, to, rel }) => {
    expect(relativeSegments(from, to)).toBe(rel);
  });
});

describe('appSpecRuleIssues', () => {
  it.each<{
    name: string;
    data: unknown;
    issues: Array<{ path: Array<string | number>; predicate: string }>;
  }>([
    { name: 'not an object at all', data: 'nope', issues: [] },
    {
      name: 'wrong types are left to the schema',
      data: { build: { context: 1 }, health: { interval: 2 } },
      issues: [],
    },
    {
      name: 'dockerfile naming the context itself',
      data: { build: { dockerfile: 'x/..' } },
      issues: [
        {
          path: ['build', 'dockerfile'],
          predicate: 'must name a file inside the build context, not a directory',
        },
      ],
    },
    {
      name: 'dockerfile naming a directory',
      data: { build: { dockerfile: 'docker/' } },
      issues: [
        {
          path: ['build', 'dockerfile'],
          predicate: 'must name a file inside the build context, not a directory',
        },
      ],
    },
    {
      name: 'durations that overflow',
      data: { rollout: { progressDeadline: `${'9'.repeat(20)}h` } },
      issues: [{ path: ['rollout', 'progressDeadline'], predicate: 'is too long' }],
    },
    {
      name: 'zero startPeriod and bake are fine',
      data: { health: { startPeriod: '0s' }, rollout: { bake: '0ms' } },
      issues: [],
    },
    {
      name: 'zero timeout and deadline are not',
      data: { health: { timeout: '0s' }, rollout: { progressDeadline: '0m' } },
      issues: [
        { path: ['health', 'timeout'], predicate: 'must be longer than 0s' },
        { path: ['rollout', 'progressDeadline'], predicate: 'must be longer than 0s' },
      ],
    },
    {
      name: 'branch rules per environment',
      data: { environments: { a: { branch: 'ok' }, b: { branch: 'no way' }, c: null } },
      issues: [{ path: ['environments', 'b', 'branch'], predicate: 'must not contain spaces' }],
    },
  ])('$name', ({ data, issues }) => {
    expect(appSpecRuleIssues(data, [])).toEqual(issues);
  });
});
