import { describe, expect, it } from 'vitest';
import { joinHistory } from '../../src/cli/commands/history.js';
import { logBlock } from '../../src/cli/commands/logs.js';
import { previewLines } from '../../src/cli/commands/deploy.js';
import { rolloutLines } from '../../src/cli/commands/rollout.js';
import { exitForOutcome } from '../../src/cli/exit.js';
import {
  clip,
  duration,
  envTable,
  historyTable,
  standing,
  table,
  triggerText,
} from '../../src/cli/format.js';
import { eventLine, exitCodeFor, outcomeLines, statusLines } from '../../src/cli/progress.js';
import { parseSse } from '../../src/cli/sse.js';
import type { Revision } from '../../src/store/records.js';
import type { EnvView, HistoryEntry, RolloutView } from '../../src/cli/views.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

function rollout(over: Partial<RolloutView> = {}): RolloutView {
  return {
    id: 'r-1-abc',
    app: 'hello',
    env: 'production',
    kind: 'deploy',
    trigger: { kind: 'webhook', provider: 'github', actor: 'alice' },
    from: { sha: A, image: 'reg/hello@sha256:a' },
    to: { sha: B, image: 'reg/hello@sha256:b' },
    phase: 'succeeded',
    outcome: 'succeeded',
    reason: 'all 3 instances healthy',
    createdAt: '2026-03-01T11:58:00.000Z',
    finishedAt: '2026-03-01T11:58:14.200Z',
    ...over,
  };
}

describe('table', () => {
  it('aligns columns, counts characters (not bytes) and trims line ends', () => {
    expect(
      table(
        ['A', 'BB'],
        [
          ['→x', ''],
          ['long', 'y'],
        ],
      ),
    ).toBe('A     BB\n→x\nlong  y');
  });
});

describe('small formats', () => {
  it.each([
    [undefined, '-'],
    [-5, '-'],
    [850, '850ms'],
    [14_200, '14.2s'],
    [245_000, '4m05s'],
    [7_800_000, '2h10m'],
  ])('duration(%s) = %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it.each([
    [{ kind: 'webhook', provider: 'github', actor: 'alice' }, 'push (alice)'],
    [{ kind: 'webhook', provider: 'gitea' }, 'push'],
    [{ kind: 'poll' }, 'poll'],
    [{ kind: 'manual', actor: 'ci', via: 'rollback' }, 'ci (rollback)'],
    [{ kind: 'manual', actor: 'ci' }, 'ci'],
    [undefined, '-'],
  ] as const)('trigger %j is %s', (t, text) => {
    expect(triggerText(t)).toBe(text);
  });

  it('clips with an ellipsis', () => {
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('abc', 4)).toBe('abc');
  });
});

describe('history table', () => {
  const entries: HistoryEntry[] = [
    {
      ...rollout({
        kind: 'rollback',
        trigger: { kind: 'manual', actor: 'ci', via: 'rollback' },
        to: { sha: B, image: 'reg/hello@sha256:b', release: 4 },
      }),
      commit: { sha: B, message: 'Add greeting (#42)', prNumber: 42 },
      running: true,
      durationMs: 14_200,
    },
    {
      ...rollout({
        id: 'r-0-abc',
        from: null,
        outcome: undefined,
        phase: 'progressing (step 1 of 3)',
        finishedAt: undefined,
      }),
      commit: { sha: B, message: 'Merge pull request #41 from acme/x\n\nbody' },
      pr: { number: 41 },
      running: false,
    },
  ];
  it('shows where, what, by whom, how long, how it ended and whether it runs', () => {
    expect(historyTable(entries, NOW).split('\n')).toEqual([
      'WHEN    ENV         KIND      FROM→TO          RELEASE  COMMIT                              PR   BY             DURATION  OUTCOME                    RUNNING',
      '2m ago  production  rollback  aaaaaaa→bbbbbbb  v4       Add greeting (#42)                  #42  ci (rollback)  14.2s     succeeded                  yes',
      '2m ago  production  deploy    ∅→bbbbbbb        -        Merge pull request #41 from acme/x  #41  push (alice)   -         progressing (step 1 of 3)  -',
    ]);
  });
});

describe('environments', () => {
  const env: EnvView = {
    app: 'hello',
    env: 'production',
    current: { sha: B, image: 'x', rolloutId: 'r-1', since: '2026-03-01T11:00:00Z' },
    route: { url: 'http://127.0.0.1:9000' },
    lock: { reason: 'launch day', by: 'ops', at: '2026-03-01T11:30:00Z' },
    pin: { sha: A, reason: 'rolled back', by: 'ci', at: '2026-03-01T11:40:00Z', rolloutId: 'r-2' },
  };
  it('says who locked or pinned it and why', () => {
    expect(standing(env, NOW)).toBe(
      'locked by ops 30m ago: launch day; pinned to aaaaaaaaaaaa by ci: rolled back',
    );
    expect(standing({ ...env, lock: null, pin: undefined }, NOW)).toBe('-');
  });
  it('lists branch, what runs, since when and where', () => {
    const text = envTable(
      [{ ...env, lock: null, pin: null }],
      { production: { branch: 'main' } },
      NOW,
    );
    expect(text.split('\n')[1]).toBe(
      'production  main    bbbbbbbbbbbb  1h ago  http://127.0.0.1:9000  -',
    );
  });
});

describe('rollout progress', () => {
  const start = Date.parse('2026-03-01T11:58:00.000Z');
  it('prints events with the time since the rollout began', () => {
    expect(
      eventLine({ at: start + 3_250, kind: 'phase-changed', text: 'phase: baking' }, start),
    ).toBe('+   3.3s  phase: baking');
  });

  it('draws a headline and one line per instance', () => {
    const r = rollout({
      outcome: undefined,
      phase: 'progressing (step 2 of 3)',
      instances: [
        {
          slot: 'web-1',
          revision: B,
          host: 'local',
          health: { status: 'unhealthy', detail: 'GET /healthz: 404' },
          routed: false,
          retiring: null,
        },
        {
          slot: 'web-0',
          revision: A,
          host: 'local',
          health: { status: 'healthy', detail: null },
          routed: true,
          retiring: 'replaced',
        },
      ],
    });
    expect(statusLines(r, start + 12_300, 0)).toEqual([
      '⠋ deploy hello/production aaaaaaa→bbbbbbb  progressing (step 2 of 3)  12.3s',
      '  web-1          bbbbbbb  unhealthy (GET /healthz: 404)',
      '  web-0          aaaaaaa  healthy, routed, retiring (replaced)',
    ]);
  });

  it.each([
    [
      'succeeded',
      rollout(),
      ['✔ deploy r-1-abc succeeded in 14.2s: hello/production now runs bbbbbbbbbbbb'],
      0,
    ],
    [
      'failed, with the failing instance log tail',
      rollout({
        outcome: 'failed',
        reason: 'web-1 unhealthy: /healthz 404',
        failureLogs: { slot: 'web-1', lines: ['GET /healthz 404'] },
      }),
      [
        '✘ deploy r-1-abc failed in 14.2s: web-1 unhealthy: /healthz 404',
        '  last log lines of web-1:',
        '  │ GET /healthz 404',
      ],
      1,
    ],
    [
      'aborted',
      rollout({ outcome: 'aborted', reason: 'abort requested' }),
      ['✘ deploy r-1-abc aborted in 14.2s: abort requested'],
      1,
    ],
    [
      'superseded',
      rollout({ outcome: 'superseded', reason: 'by r-2' }),
      ['↷ deploy r-1-abc superseded in 14.2s: by r-2'],
      3,
    ],
  ])('ends with the outcome: %s', (_name, r, lines, code) => {
    expect(outcomeLines(r)).toEqual(lines);
    expect(exitCodeFor(r)).toBe(code);
  });

  it('exit codes by outcome', () => {
    expect(['succeeded', 'failed', 'aborted', 'superseded'].map(exitForOutcome)).toEqual([
      0, 1, 1, 3,
    ]);
  });

  it('the detail view of `gantry rollout`', () => {
    const lines = rolloutLines(
      rollout(),
      [
        { at: start + 1000, kind: 'created', text: 'created' },
        { at: start + 14_200, kind: 'outcome', text: 'succeeded: x' },
      ],
      NOW,
    );
    expect(lines[0]).toBe('deploy hello/production aaaaaaa→bbbbbbb  (r-1-abc)');
    expect(lines).toContain('+   1.0s  created');
    expect(lines.join('\n')).not.toContain('succeeded: x');
    expect(lines.at(-1)).toMatch(/^✔ deploy r-1-abc succeeded in 14.2s/);
  });
});

describe('server-sent events', () => {
  it.each([
    [
      'one whole frame',
      'id: 1-0\nevent: rollout\ndata: {"a":1}\n\n',
      [{ id: '1-0', event: 'rollout', data: '{"a":1}' }],
      '',
    ],
    ['a comment and a heartbeat are dropped', ': connected\n\n: hb\n\n', [], ''],
    [
      'CRLF line ends',
      'event: env\r\ndata: x\r\n\r\n',
      [{ id: undefined, event: 'env', data: 'x' }],
      '',
    ],
    [
      'multi-line data',
      'data: a\ndata: b\n\n',
      [{ id: undefined, event: 'message', data: 'a\nb' }],
      '',
    ],
    [
      'an unfinished frame stays for the next chunk',
      'data: a\n\nid: 2-0\ndata: b',
      [{ id: undefined, event: 'message', data: 'a' }],
      'id: 2-0\ndata: b',
    ],
  ])('%s', (_name, text, frames, rest) => {
    expect(parseSse(text)).toEqual({ frames, rest });
  });
});

describe('rollback preview and logs', () => {
  it('lists the commits a rollback takes out, with their PRs', () => {
    expect(
      previewLines('hello', {
        env: 'production',
        from: { sha: B, message: 'Add greeting (#42)', prNumber: 42 },
        to: { sha: A, message: 'First' },
        removed: [{ sha: B, message: 'Add greeting (#42)', prNumber: 42 }],
      }),
    ).toEqual([
      'hello/production: bbbbbbbbbbbb → aaaaaaaaaaaa First',
      'takes out 1 commit:',
      '  bbbbbbbbbbbb Add greeting (#42)',
    ]);
  });
  it('heads each instance log', () => {
    expect(
      logBlock({
        env: 'production',
        slot: 'web-1',
        revision: B,
        host: 'local',
        state: 'running',
        lines: ['a', 'b'],
      }),
    ).toBe('==> production/web-1 (bbbbbbb on local, running) <==\na\nb');
  });
});

describe('history from rollouts (controllers without /api/history)', () => {
  const rev = (sha: string, message: string, prNumber?: number): Revision => ({
    app: 'hello',
    sha,
    repo: 'r',
    branch: 'main',
    firstSeenAt: '',
    commit: { sha, message, author: { name: 'alice', email: '', timestamp: 0 }, prNumber },
  });
  const C = 'c'.repeat(40);
  const rollouts = [
    rollout({ id: 'r-3', to: { sha: A, image: '' }, kind: 'rollback' }),
    rollout({ id: 'r-2', to: { sha: B, image: '' } }),
    rollout({ id: 'r-1', to: { sha: A, image: '' } }),
    rollout({ id: 'r-0', to: { sha: C, image: '' }, outcome: 'failed' }),
  ];
  const envs: EnvView[] = [
    {
      app: 'hello',
      env: 'production',
      current: { sha: A, image: '', rolloutId: 'r-3', since: '' },
    },
  ];
  const revisions = [
    rev(A, 'Merge pull request #41 from a/b', 41),
    rev(B, 'Add greeting (#42)', 42),
  ];
  it.each([
    [
      'all: a succeeded rollout of what serves now is running',
      {},
      [
        ['r-3', true],
        ['r-2', false],
        ['r-1', true],
        ['r-0', false],
      ],
    ],
    ['by PR', { pr: 42 }, [['r-2', false]]],
    [
      'by PR, both rollouts of it',
      { pr: 41 },
      [
        ['r-3', true],
        ['r-1', true],
      ],
    ],
    ['by SHA prefix', { sha: 'CCC' }, [['r-0', false]]],
    ['limited', { limit: 1 }, [['r-3', true]]],
  ])('%s', (_name, q, expected) => {
    const got = joinHistory(rollouts, envs, revisions, { app: 'hello', ...q });
    expect(got.map((e) => [e.id, e.running])).toEqual(expected);
  });
  it('carries the commit message and PR', () => {
    const [first] = joinHistory(rollouts, envs, revisions, { app: 'hello', pr: 42 });
    expect(first?.commit).toMatchObject({
      message: 'Add greeting (#42)',
      prNumber: 42,
      author: 'alice',
    });
  });
});
