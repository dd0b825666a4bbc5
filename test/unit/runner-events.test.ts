/**
 * The runner's own event lines: a rollout's first line says what it does. A deploy reads
 * "deploy A → B (release)"; a scale and a restart move no code, so they say what they change.
 */
import { describe, expect, it } from 'vitest';
import { operationOf } from '../../src/deploy/rollout-record.js';
import { runnerEventText, type RunnerEvent } from '../../src/deploy/runner-events.js';
import type { ReleaseChange } from '../../src/release/releases.js';

const A = '623c03071d2c'.padEnd(40, 'a');
const B = '9f1e0b7c2d44'.padEnd(40, 'b');

describe('the first line of a rollout', () => {
  const cases: {
    name: string;
    event: Omit<Extract<RunnerEvent, { kind: 'created' }>, 'kind' | 'at'>;
    text: string;
  }[] = [
    {
      name: 'a deploy names both sides and the release',
      event: {
        rolloutKind: 'deploy',
        from: A,
        to: B,
        release: `v3: deploy ${B.slice(0, 12)} by push`,
      },
      text: `deploy 623c03071d2c → 9f1e0b7c2d44 (v3: deploy 9f1e0b7c2d44 by push)`,
    },
    {
      name: 'a first deploy comes from nothing',
      event: { rolloutKind: 'deploy', from: null, to: A },
      text: 'deploy (nothing) → 623c03071d2c',
    },
    {
      name: 'a scale says the formation and the new release',
      event: {
        rolloutKind: 'deploy',
        from: A,
        to: A,
        release: 'v2: scale web=5, worker=2 by ci',
        operation: { kind: 'scale', formation: { web: 5, worker: 2 }, version: 2 },
      },
      text: 'scale web=5, worker=2 of 623c03071d2c (v2)',
    },
    {
      name: 'a restart of one process type',
      event: {
        rolloutKind: 'deploy',
        from: A,
        to: A,
        operation: { kind: 'restart', processes: ['web'], version: 4 },
      },
      text: 'restart web of 623c03071d2c (v4)',
    },
    {
      name: 'a restart of every process (also a redeploy of what runs)',
      event: {
        rolloutKind: 'deploy',
        from: A,
        to: A,
        operation: { kind: 'restart', processes: [], version: 4 },
      },
      text: 'restart every process of 623c03071d2c (v4)',
    },
    {
      name: 'a restart from before releases has no version',
      event: {
        rolloutKind: 'deploy',
        from: A,
        to: A,
        operation: { kind: 'restart', processes: ['worker'] },
      },
      text: 'restart worker of 623c03071d2c',
    },
  ];
  it.each(cases)('$name', ({ event, text }) => {
    expect(runnerEventText({ kind: 'created', at: 0, ...event })).toBe(text);
  });
});

describe('operationOf', () => {
  const build: ReleaseChange = { kind: 'build', sha: A };
  const scale: ReleaseChange = { kind: 'scale', processes: { worker: 3 } };
  const cases: {
    name: string;
    restart: string[] | undefined;
    change: ReleaseChange;
    expected: unknown;
  }[] = [
    {
      name: 'a deploy of a build does no operation',
      restart: undefined,
      change: build,
      expected: undefined,
    },
    {
      name: "a scale's release rolls out as a scale",
      restart: undefined,
      change: scale,
      expected: { kind: 'scale', formation: { worker: 3 }, version: 7 },
    },
    {
      name: 'a restart is a restart, whatever made the release it replaces',
      restart: ['worker'],
      change: scale,
      expected: { kind: 'restart', processes: ['worker'], version: 7 },
    },
    {
      name: 'a config change is a deploy',
      restart: undefined,
      change: { kind: 'config', set: ['A'], secrets: [], unset: [] },
      expected: undefined,
    },
  ];
  it.each(cases)('$name', ({ restart, change, expected }) => {
    expect(operationOf({ restart }, { version: 7, change })).toEqual(expected);
  });
});
