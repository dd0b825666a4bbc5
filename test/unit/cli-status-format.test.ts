import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/args.js';
import { envStatusBlock, healthLine, syncText } from '../../src/cli/format.js';
import type { EnvStatusView, EnvView, InstanceStatusView } from '../../src/cli/views.js';
import { statusView, summarize, worstHealth } from '../../src/api/env-status.js';
// @ts-expect-error: the dashboard's plain ES module has no type declarations
import { healthFromStatus } from '../../src/ui/changes.js';
import type { EnvHealth } from '../../src/store/records.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const A = 'a'.repeat(40);

function inst(slot: string, over: Partial<InstanceStatusView> = {}): InstanceStatusView {
  return {
    slot,
    host: 'local',
    revision: A,
    state: 'running',
    verdict: 'healthy',
    routed: true,
    ...over,
  };
}

function status(over: Partial<EnvStatusView> = {}): EnvStatusView {
  return {
    sync: { status: 'synced', reasons: [] },
    health: { status: 'healthy', detail: '2/2 healthy' },
    instances: [inst('r-1-a-0'), inst('r-1-a-1')],
    selfHeal: true,
    orphaned: null,
    observedAt: '2026-03-01T11:59:50.000Z',
    ...over,
  };
}

describe('syncText', () => {
  it.each<[string, EnvStatusView['sync'], string]>([
    ['synced', { status: 'synced', reasons: [] }, 'synced'],
    [
      'out of sync with reasons',
      {
        status: 'out-of-sync',
        reasons: [
          { reason: 'drift', detail: 'r-1-a-1 exited' },
          { reason: 'newer-head', detail: 'main is at bbbbbbbbbbbb' },
        ],
      },
      'out of sync: drift (r-1-a-1 exited); newer-head (main is at bbbbbbbbbbbb)',
    ],
    ['out of sync without reasons', { status: 'out-of-sync', reasons: [] }, 'out of sync'],
    ['not reconciled yet', { status: 'unknown', reasons: [] }, 'unknown (not reconciled yet)'],
  ])('%s', (_name, sync, text) => {
    expect(syncText(status({ sync }))).toBe(text);
  });
});

describe('healthLine', () => {
  it.each<[string, Partial<EnvStatusView>, string]>([
    ['healthy', {}, 'healthy: 2/2 healthy'],
    [
      'degraded names the failing instance and why',
      {
        health: { status: 'degraded', detail: '3/4 healthy' },
        instances: [
          inst('r-1-a-0'),
          inst('r-1-a-1'),
          inst('r-1-a-2', { state: 'exited', verdict: 'unhealthy', detail: 'exited 137' }),
          inst('r-1-a-3'),
        ],
      },
      'degraded: 3/4 healthy; r-1-a-2 exited 137',
    ],
    [
      'an instance the detail already names is not repeated',
      {
        health: { status: 'degraded', detail: 'r-1-a-1 exited 1' },
        instances: [inst('r-1-a-1', { verdict: 'unhealthy', detail: 'exited 1' })],
      },
      'degraded: r-1-a-1 exited 1',
    ],
    [
      'stray without detail shows its verdict',
      { instances: [inst('x-9', { verdict: 'stray', routed: false })] },
      'healthy: 2/2 healthy; x-9 stray',
    ],
    ['unknown', { health: { status: 'unknown', detail: '' }, instances: [] }, 'unknown'],
  ])('%s', (_name, over, text) => {
    expect(healthLine(status(over))).toBe(text);
  });
});

describe('envStatusBlock', () => {
  const env = (s: EnvStatusView | undefined): EnvView => ({
    app: 'hello',
    env: 'staging',
    current: null,
    status: s,
  });

  it('shows orphaned with the prune command, instances and the timeline', () => {
    const text = envStatusBlock(
      'hello',
      env(
        status({
          sync: { status: 'out-of-sync', reasons: [{ reason: 'orphaned', detail: 'gone' }] },
          orphaned: { why: 'staging left gantry.yaml' },
          selfHeal: false,
        }),
      ),
      [{ at: NOW - 120_000, kind: 'orphaned', text: 'orphaned: staging left gantry.yaml' }],
      NOW,
    );
    expect(text.split('\n')).toEqual([
      'staging  (self-heal off, observed 10s ago)',
      '  sync:      out of sync: orphaned (gone)',
      '  health:    healthy: 2/2 healthy',
      '  orphaned:  staging left gantry.yaml (remove it with: gantry prune hello --env staging)',
      '  instances:',
      '    SLOT     REVISION      HOST   STATE    VERDICT  ROUTED  DETAIL',
      '    r-1-a-0  aaaaaaaaaaaa  local  running  healthy  yes     -',
      '    r-1-a-1  aaaaaaaaaaaa  local  running  healthy  yes     -',
      '  timeline (newest first):',
      '    2m ago  orphaned: staging left gantry.yaml',
    ]);
  });

  it("groups instances by process type in the app's order, then by slot", () => {
    // As Kubernetes lists them: by pod name, which puts `…--worker-…` pods between web's.
    const text = envStatusBlock(
      'hello',
      env(
        status({
          health: { status: 'healthy', detail: '4/4 serving' },
          processes: [
            { name: 'web', desired: 2, ready: 2 },
            { name: 'worker', desired: 2, ready: 2 },
          ],
          instances: [
            inst('r-2-b-1', { process: 'worker', routed: false }),
            inst('r-1-a-0', { process: 'worker', routed: false }),
            inst('r-1-a-2', { process: 'web' }),
            inst('r-1-a-1'),
          ],
        }),
      ),
      [],
      NOW,
    );
    expect(text.split('\n').slice(4)).toEqual([
      '  instances:',
      '    PROCESS  SLOT     REVISION      HOST   STATE    VERDICT  ROUTED  DETAIL',
      '    web      r-1-a-1  aaaaaaaaaaaa  local  running  healthy  yes     -',
      '    web      r-1-a-2  aaaaaaaaaaaa  local  running  healthy  yes     -',
      '    worker   r-1-a-0  aaaaaaaaaaaa  local  running  healthy  no      -',
      '    worker   r-2-b-1  aaaaaaaaaaaa  local  running  healthy  no      -',
    ]);
  });

  it('before the first pass, and from a controller without statuses', () => {
    const unknown = statusView('hello', 'staging', undefined);
    expect(envStatusBlock('hello', env(unknown), [], NOW).split('\n')).toEqual([
      'staging  (self-heal off, never observed)',
      '  sync:      unknown (not reconciled yet)',
      '  health:    unknown: not reconciled yet',
    ]);
    expect(envStatusBlock('hello', env(undefined), [], NOW)).toBe(
      'staging\n  status: not reported by this controller',
    );
  });
});

describe('app summary', () => {
  it.each<[string, EnvHealth[], EnvHealth]>([
    ['none', [], 'unknown'],
    ['all healthy', ['healthy', 'healthy'], 'healthy'],
    ['progressing beats healthy', ['healthy', 'progressing'], 'progressing'],
    ['unknown beats progressing', ['progressing', 'unknown'], 'unknown'],
    ['missing beats unknown', ['unknown', 'missing'], 'missing'],
    ['degraded is worst', ['missing', 'degraded', 'healthy'], 'degraded'],
  ])('worst health: %s', (_name, healths, worst) => {
    expect(worstHealth(healths)).toBe(worst);
  });

  it('summarizes sync and orphans', () => {
    const synced = statusView('a', 'production', {
      ...statusView('a', 'production', undefined),
      sync: { status: 'synced', reasons: [] },
      health: { status: 'healthy', detail: '' },
    } as never);
    const orphan = {
      ...synced,
      env: 'staging',
      sync: { status: 'out-of-sync' as const, reasons: [] },
      orphaned: { why: 'left' },
    };
    expect(summarize([synced, orphan])).toMatchObject({
      health: 'healthy',
      sync: 'out-of-sync',
      orphaned: ['staging'],
      envs: { production: { sync: 'synced', orphaned: false }, staging: { orphaned: true } },
    });
    expect(summarize([synced, statusView('a', 'x', undefined)]).sync).toBe('unknown');
    expect(summarize([synced]).sync).toBe('synced');
  });
});

describe('gantry prune arguments', () => {
  it.each<[string, string[], unknown]>([
    [
      'env and force',
      ['prune', 'hello', '--env', 'staging', '--force'],
      { ok: true, command: { verb: 'prune', app: 'hello', env: 'staging', force: true } },
    ],
    [
      'env only',
      ['prune', 'hello', '-e', 'staging'],
      { ok: true, command: { verb: 'prune', app: 'hello', env: 'staging', force: false } },
    ],
    ['no env', ['prune', 'hello'], { ok: false, error: expect.stringMatching(/--env/) }],
    ['force elsewhere', ['unpin', 'hello', '--force'], { ok: false }],
  ])('%s', (_name, argv, parsed) => {
    expect(parseCommandLine(argv)).toMatchObject(parsed as object);
  });
});

describe('dashboard health from the status', () => {
  it.each<[string, Partial<EnvStatusView> | undefined, unknown]>([
    ['no status', undefined, null],
    ['not reconciled yet', { observedAt: '' }, null],
    [
      'own instances only (strays and surplus left out)',
      {
        health: { status: 'degraded', detail: '' },
        instances: [
          inst('a'),
          inst('b', { verdict: 'unhealthy' }),
          inst('c', { verdict: 'stray' }),
          inst('d', { verdict: 'surplus' }),
        ],
      },
      { healthy: 1, total: 2, known: true, word: 'degraded' },
    ],
  ])('%s', (_name, over, expected) => {
    expect(healthFromStatus(over ? status(over) : undefined)).toEqual(expected);
  });
});
