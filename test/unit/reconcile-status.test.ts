/** The environment status, derived from facts: sync with its reasons, health in Argo CD's words. */
import { describe, expect, it } from 'vitest';
import type { Judged, HealInstance } from '../../src/reconcile/heal.js';
import { statusOf, type StatusFacts } from '../../src/reconcile/status.js';

const SHA = 'a'.repeat(40);
const HEAD = 'c'.repeat(40);

function judged(
  n: number,
  verdict: Judged['verdict'],
  over: Partial<HealInstance> = {},
  detail: string | null = null,
): Judged {
  return {
    instance: {
      id: `c${n}`,
      slot: `r-1-${n}`,
      revision: SHA,
      image: 'img',
      rolloutId: 'r-1',
      host: 'local',
      state: 'running',
      restartCount: 0,
      exitCode: null,
      startedAt: 0,
      routed: verdict === 'healthy',
      probes: [],
      ...over,
    },
    verdict,
    detail,
  };
}

const healthy3 = [judged(0, 'healthy'), judged(1, 'healthy'), judged(2, 'healthy')];

function facts(over: Partial<StatusFacts> = {}): StatusFacts {
  return {
    app: 'app',
    env: 'production',
    desired: { sha: SHA, image: 'img', replicas: 3, rolloutId: 'r-1' },
    judged: healthy3,
    pendingStarts: 0,
    drift: [],
    route: { id: 'app-production', url: 'http://127.0.0.1:8800', upstreams: [] },
    selfHeal: true,
    orphaned: null,
    rolloutInFlight: null,
    head: SHA,
    pinned: null,
    locked: null,
    headFailed: false,
    unreachable: null,
    now: 0,
    ...over,
  };
}

describe('statusOf', () => {
  it.each<{
    name: string;
    facts: StatusFacts;
    health: string;
    detail: RegExp;
    sync: string;
    reasons: string[];
  }>([
    {
      name: 'all serving, head deployed',
      facts: facts(),
      health: 'healthy',
      detail: /^3\/3 serving$/,
      sync: 'synced',
      reasons: [],
    },
    {
      name: 'one exited instance',
      facts: facts({
        judged: [
          ...healthy3.slice(0, 2),
          judged(2, 'unhealthy', { state: 'exited' }, 'exited with code 137'),
        ],
        drift: ['2 of 3 replicas healthy'],
      }),
      health: 'degraded',
      detail: /2\/3 serving; r-1-2 exited with code 137/,
      sync: 'out-of-sync',
      reasons: ['drift'],
    },
    {
      name: 'a replacement starting after a removal',
      facts: facts({
        judged: healthy3.slice(0, 2),
        pendingStarts: 1,
        drift: ['2 of 3 replicas healthy'],
      }),
      health: 'progressing',
      detail: /2\/3 serving; 1 starting/,
      sync: 'out-of-sync',
      reasons: ['drift'],
    },
    {
      name: 'fewer than replicas with self-heal off',
      facts: facts({
        judged: healthy3.slice(0, 2),
        selfHeal: false,
        drift: ['2 of 3 replicas healthy'],
      }),
      health: 'degraded',
      detail: /2\/3 serving/,
      sync: 'out-of-sync',
      reasons: ['drift'],
    },
    {
      name: 'nothing runs',
      facts: facts({ judged: [] }),
      health: 'missing',
      detail: /no instance/,
      sync: 'synced',
      reasons: [],
    },
    {
      name: 'nothing deployed',
      facts: facts({ desired: null, judged: [], head: null }),
      health: 'missing',
      detail: /nothing deployed/,
      sync: 'synced',
      reasons: [],
    },
    {
      name: 'a rollout running',
      facts: facts({ rolloutInFlight: 'r-2', head: HEAD }),
      health: 'progressing',
      detail: /rollout r-2/,
      sync: 'synced',
      reasons: [],
    },
    {
      name: 'a newer head',
      facts: facts({ head: HEAD }),
      health: 'healthy',
      detail: /3\/3/,
      sync: 'out-of-sync',
      reasons: ['newer-head'],
    },
    {
      name: 'pinned after a rollback',
      facts: facts({ head: HEAD, pinned: { sha: SHA, reason: 'rollback by ada' } }),
      health: 'healthy',
      detail: /3\/3/,
      sync: 'out-of-sync',
      reasons: ['pinned'],
    },
    {
      name: 'frozen',
      facts: facts({ head: HEAD, locked: { reason: 'release freeze' } }),
      health: 'healthy',
      detail: /3\/3/,
      sync: 'out-of-sync',
      reasons: ['frozen'],
    },
    {
      name: 'head failed here',
      facts: facts({ head: HEAD, headFailed: true }),
      health: 'healthy',
      detail: /3\/3/,
      sync: 'out-of-sync',
      reasons: ['failed'],
    },
    {
      name: 'engine unreachable',
      facts: facts({ judged: [], unreachable: { what: 'engine', detail: 'connect ENOENT' } }),
      health: 'unknown',
      detail: /ENOENT/,
      sync: 'out-of-sync',
      reasons: ['engine-unreachable'],
    },
    {
      name: 'orphaned',
      facts: facts({ orphaned: { why: 'environment production is no longer in gantry.yaml' } }),
      health: 'healthy',
      detail: /3\/3/,
      sync: 'out-of-sync',
      reasons: ['orphaned'],
    },
  ])('$name', ({ facts: f, health, detail, sync, reasons }) => {
    const s = statusOf(f);
    expect(s.health.status).toBe(health);
    expect(s.health.detail).toMatch(detail);
    expect(s.sync.status).toBe(sync);
    expect(s.sync.reasons.map((r) => r.reason)).toEqual(reasons);
  });

  it('lists every instance with its verdict and why', () => {
    const s = statusOf(
      facts({
        judged: [
          ...healthy3,
          judged(3, 'stray', { rolloutId: 'r-x', routed: false }, 'rollout r-x is not known'),
        ],
      }),
    );
    expect(s.instances.map((i) => [i.slot, i.verdict, i.routed, i.detail])).toEqual([
      ['r-1-0', 'healthy', true, undefined],
      ['r-1-1', 'healthy', true, undefined],
      ['r-1-2', 'healthy', true, undefined],
      ['r-1-3', 'stray', false, 'rollout r-x is not known'],
    ]);
  });
});
