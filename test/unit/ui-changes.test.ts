// The dashboard's pure helpers (plain browser ES modules, importable by Node as they are).
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module of the browser UI, without type declarations.
import * as changes from '../../src/ui/changes.js';
// @ts-expect-error: as above.
import * as sse from '../../src/ui/sse.js';

interface Summary {
  sha: string;
  message: string;
  author: string;
  prNumber?: number;
}
const { changesBetween, rollbackTargets, entriesFromRollouts, healthOf, commitSummary } =
  changes as {
    changesBetween: (
      revs: unknown[],
      from: string | null | undefined,
      to: string,
    ) => { direction: string; commits: Summary[] };
    rollbackTargets: (entries: unknown[], current: unknown) => Set<string>;
    entriesFromRollouts: (
      rollouts: unknown[],
      revisions: unknown[],
      envs: unknown[],
    ) => { id: string; running: boolean; commit: Summary }[];
    healthOf: (env: unknown, rollouts: unknown[]) => { healthy: number; total: number };
    commitSummary: (x: unknown) => Summary;
  };
const { parseFrames } = sse as {
  parseFrames: (buf: string) => {
    frames: { id: string | null; event: string; data: string }[];
    rest: string;
  };
};

const rev = (sha: string, message: string, prNumber?: number) => ({
  sha,
  commit: { sha, message: `${message}\n\nbody`, author: { name: 'Ada', email: 'a@x' }, prNumber },
});
// Newest first, as GET /api/apps/:app lists them.
const REVS = [rev('d4', 'four', 4), rev('c3', 'three'), rev('b2', 'two', 2), rev('a1', 'one', 1)];

describe('changesBetween', () => {
  const cases: [string, string | null, string, string, string[]][] = [
    ['forward ships to, not from', 'b2', 'd4', 'forward', ['d4', 'c3']],
    ['back takes out from, not to', 'd4', 'a1', 'back', ['d4', 'c3', 'b2']],
    ['first rollout ships its commit', null, 'b2', 'first', ['b2']],
    ['same revision ships nothing', 'c3', 'c3', 'same', []],
    ['unknown from: only the target is known', 'zz', 'c3', 'unknown', ['c3']],
  ];
  it.each(cases)('%s', (_name, from, to, direction, shas) => {
    const res = changesBetween(REVS, from, to);
    expect(res.direction).toBe(direction);
    expect(res.commits.map((c) => c.sha)).toEqual(shas);
  });

  it('summarises commits as the API does: first line, author name, PR number', () => {
    expect(changesBetween(REVS, 'c3', 'd4').commits[0]).toMatchObject({
      sha: 'd4',
      message: 'four',
      author: 'Ada',
      prNumber: 4,
    });
    expect(commitSummary({ sha: 'x', message: 'm', author: 'Bo', prNumber: 7 })).toMatchObject({
      author: 'Bo',
      prNumber: 7,
    });
  });
});

const entry = (id: string, sha: string, outcome: string | undefined, createdAt: string) => ({
  id,
  env: 'production',
  to: { sha },
  outcome,
  createdAt,
});

describe('rollbackTargets', () => {
  // Newest first: c3 failed (rolled back), b2 runs, a1 and an older a1 deploy succeeded.
  const entries = [
    entry('r5', 'c3', 'failed', '2026-01-05T00:00:00Z'),
    entry('r4', 'b2', 'succeeded', '2026-01-04T00:00:00Z'),
    entry('r3', 'a1', 'succeeded', '2026-01-03T00:00:00Z'),
    entry('r2', 'z0', 'aborted', '2026-01-02T00:00:00Z'),
    entry('r1', 'a1', 'succeeded', '2026-01-01T00:00:00Z'),
  ];
  it('offers each earlier healthy revision once, never the running one or a failed one', () => {
    const current = { sha: 'b2', rolloutId: 'r4', since: '2026-01-04T00:01:00Z' };
    expect([...rollbackTargets(entries, current)]).toEqual(['r3']);
  });
  it('offers nothing when nothing runs', () => {
    expect(rollbackTargets(entries, null).size).toBe(0);
  });
  it('after a rollback to a1, the newer b2 is not "earlier" than the rollback and c3 failed', () => {
    const withBack = [entry('r6', 'a1', 'succeeded', '2026-01-06T00:00:00Z'), ...entries];
    const current = { sha: 'a1', rolloutId: 'r6', since: '2026-01-06T00:01:00Z' };
    expect([...rollbackTargets(withBack, current)]).toEqual(['r4']);
  });
});

describe('entriesFromRollouts', () => {
  it('marks only the newest succeeded rollout of the running revision as running', () => {
    const rollouts = [
      { ...entry('r3', 'b2', 'failed', 't3'), kind: 'deploy' },
      { ...entry('r2', 'a1', 'succeeded', 't2'), kind: 'rollback' },
      { ...entry('r1', 'a1', 'succeeded', 't1'), kind: 'deploy' },
    ];
    const envs = [{ env: 'production', current: { sha: 'a1', rolloutId: 'r3' } }];
    const out = entriesFromRollouts(rollouts, REVS, envs);
    expect(out.map((e) => [e.id, e.running])).toEqual([
      ['r3', false],
      ['r2', true],
      ['r1', false],
    ]);
    expect(out[0]!.commit).toMatchObject({ sha: 'b2', message: 'two', prNumber: 2 });
  });
});

describe('healthOf', () => {
  it('counts running, non-retiring instances of the serving revision from the newest rollout', () => {
    const i = (slot: string, revision: string, status: string, extra = {}) => ({
      slot,
      revision,
      runtime: 'running',
      retiring: null,
      health: { status },
      ...extra,
    });
    const rollouts = [
      {
        env: 'production',
        instances: [
          i('s1', 'a1', 'healthy'),
          i('s2', 'a1', 'starting'),
          i('s3', 'b2', 'unhealthy', { retiring: 'rolled-back' }),
          i('s4', 'a1', 'healthy', { runtime: 'exited' }),
        ],
      },
    ];
    const env = { env: 'production', current: { sha: 'a1' } };
    expect(healthOf(env, rollouts)).toMatchObject({ healthy: 1, total: 2 });
  });
});

describe('parseFrames (SSE)', () => {
  it('splits frames, keeps the unfinished rest, skips comments and joins data lines', () => {
    const text =
      ': connected\n\nid: 1-0\nevent: rollout\ndata: {"a":1}\n\n: heartbeat\n\nid: 2-0\nevent: env\ndata: x\ndata: y\n\nid: 3-0\nda';
    const { frames, rest } = parseFrames(text);
    expect(frames).toEqual([
      { id: '1-0', event: 'rollout', data: '{"a":1}' },
      { id: '2-0', event: 'env', data: 'x\ny' },
    ]);
    expect(rest).toBe('id: 3-0\nda');
  });
  it('accepts CRLF line ends', () => {
    expect(parseFrames('id: 9-1\r\ndata: {}\r\n\r\n').frames).toEqual([
      { id: '9-1', event: 'message', data: '{}' },
    ]);
  });
});
