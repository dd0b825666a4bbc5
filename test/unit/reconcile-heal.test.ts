/**
 * The reconciler's pure decision: table-driven cases for each kind of drift, and properties that
 * hold for any world (only the recorded revision is started, never above replicas + surge, never
 * a stop of a routed instance, events only on transitions, nothing at all with self-heal off).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_HEAL_STATE,
  heal,
  startBackoff,
  type HealInstance,
  type HealPlan,
  type HealState,
} from '../../src/reconcile/heal.js';
import type { Action, Probe } from '../../src/rollout/index.js';

const SHA = 'a'.repeat(40);
const IMAGE = `reg/app@sha256:${'1'.repeat(64)}`;
const NOW = 1_000_000;

function plan(over: Partial<HealPlan> = {}): HealPlan {
  return {
    app: 'app',
    env: 'production',
    rolloutId: 'r-1',
    revision: { sha: SHA, image: IMAGE },
    replicas: 3,
    maxSurge: 1,
    hosts: ['local'],
    health: {
      check: { kind: 'http', path: '/healthz', expect: 200 },
      intervalMs: 1000,
      timeoutMs: 1000,
      startPeriodMs: 2000,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      maxRestarts: 2,
    },
    strayGraceMs: 10_000,
    selfHeal: true,
    knownRollouts: ['r-1'],
    ...over,
  };
}

function inst(n: number, over: Partial<HealInstance> = {}): HealInstance {
  return {
    id: `c${n}`,
    slot: `r-1-${n}`,
    revision: SHA,
    image: IMAGE,
    rolloutId: 'r-1',
    host: 'local',
    state: 'running',
    restartCount: 0,
    exitCode: null,
    startedAt: NOW - 60_000,
    routed: true,
    probes: [],
    ...over,
  };
}

const fails = (n: number): Probe[] =>
  Array.from({ length: n }, (_, i) => ({
    at: NOW - 100 * (n - i),
    ok: false,
    detail: 'GET /healthz → 404',
  }));
const passes = (n: number): Probe[] =>
  Array.from({ length: n }, (_, i) => ({ at: NOW - 100 * (n - i), ok: true, detail: '200' }));

/** The state after a pass over `observed` (instances met, tallies counted). */
function after(p: HealPlan, observed: HealInstance[], at = NOW - 5000): HealState {
  return heal(p, EMPTY_HEAL_STATE, observed, at).state;
}

const kinds = (actions: readonly Action[]) => actions.map((a) => a.kind);

describe('heal: one pass per kind of drift', () => {
  it('holds a healthy, fully routed environment without acting or telling', () => {
    const d = heal(plan(), EMPTY_HEAL_STATE, [inst(0), inst(1), inst(2)], NOW);
    expect(d.actions).toEqual([]);
    expect(d.events).toEqual([]);
    expect(d.judged.map((j) => j.verdict)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(d.drift).toEqual([]);
  });

  it('replaces an instance removed by hand, blaming the removal', () => {
    const before = after(plan(), [inst(0), inst(1), inst(2)]);
    const d = heal(plan(), before, [inst(0), inst(1)], NOW);
    expect(d.actions).toEqual([
      { kind: 'start', slot: 'r-1-3', revision: SHA, image: IMAGE, host: 'local' },
    ]);
    expect(d.events).toMatchObject([
      { kind: 'replaced', slot: 'r-1-2', instanceId: 'c2', replacement: 'r-1-3', cause: 'removed' },
    ]);
  });

  it('unroutes an exited routed instance first and starts its successor', () => {
    const before = after(plan(), [inst(0), inst(1), inst(2)]);
    const d = heal(
      plan(),
      before,
      [inst(0), inst(1), inst(2, { state: 'exited', exitCode: 137 })],
      NOW,
    );
    expect(d.actions).toEqual([
      { kind: 'unroute', instanceIds: ['c2'] },
      { kind: 'start', slot: 'r-1-3', revision: SHA, image: IMAGE, host: 'local' },
    ]);
    expect(d.events).toMatchObject([
      { kind: 'unrouted', slot: 'r-1-2', detail: 'exited with code 137' },
      { kind: 'replaced', slot: 'r-1-2', cause: 'exited', detail: 'exited with code 137' },
    ]);
    // Next pass, out of the edge: stopped (the executor drains first), nothing told twice.
    const next = heal(
      plan(),
      d.state,
      [inst(0), inst(1), inst(2, { state: 'exited', exitCode: 137, routed: false })],
      NOW + 500,
    );
    expect(next.actions).toEqual([
      { kind: 'stop', instanceId: 'c2', slot: 'r-1-2', reason: 'unhealthy' },
      { kind: 'start', slot: 'r-1-3', revision: SHA, image: IMAGE, host: 'local' },
    ]);
    expect(next.events).toEqual([]);
  });

  it('takes an instance failing unhealthyThreshold checks out of the edge', () => {
    const before = after(plan(), [inst(0), inst(1), inst(2)]);
    const two = heal(plan(), before, [inst(0), inst(1), inst(2, { probes: fails(2) })], NOW);
    expect(two.actions).toEqual([]);
    const third = { at: NOW + 50, ok: false, detail: 'GET /healthz → 404' };
    const three = heal(
      plan(),
      two.state,
      [inst(0), inst(1), inst(2, { probes: [...fails(2), third] })],
      NOW + 100,
    );
    expect(kinds(three.actions)).toEqual(['unroute', 'start']);
    expect(three.events[0]).toMatchObject({ kind: 'unrouted', detail: 'GET /healthz → 404' });
    expect(three.judged.find((j) => j.instance.id === 'c2')?.verdict).toBe('unhealthy');
  });

  it('routes a healthy instance the edge does not send traffic to, and tells it', () => {
    const d = heal(
      plan(),
      EMPTY_HEAL_STATE,
      [inst(0), inst(1), inst(2, { routed: false, probes: passes(2) })],
      NOW,
    );
    expect(d.actions).toEqual([{ kind: 'route', instanceIds: ['c2'] }]);
    expect(d.events).toMatchObject([{ kind: 'routed', slots: ['r-1-2'] }]);
  });

  it('waits for an unrouted instance to pass healthyThreshold checks before routing it', () => {
    const d = heal(
      plan(),
      EMPTY_HEAL_STATE,
      [inst(0), inst(1), inst(2, { routed: false, probes: passes(1) })],
      NOW,
    );
    expect(d.actions).toEqual([]);
    expect(d.judged[2]?.verdict).toBe('starting');
  });

  it('leaves a stray alone for the grace period, then removes it once', () => {
    const stray = inst(9, { rolloutId: 'r-unknown', slot: 'r-unknown-0', routed: false });
    const first = heal(plan(), EMPTY_HEAL_STATE, [inst(0), inst(1), inst(2), stray], NOW);
    expect(first.actions).toEqual([]);
    expect(first.judged[3]).toMatchObject({
      verdict: 'stray',
      detail: 'rollout r-unknown is not known',
    });
    const due = heal(plan(), first.state, [inst(0), inst(1), inst(2), stray], NOW + 10_000);
    expect(due.actions).toEqual([
      { kind: 'stop', instanceId: 'c9', slot: 'r-unknown-0', reason: 'surplus' },
    ]);
    expect(due.events).toMatchObject([{ kind: 'stray-removed', slot: 'r-unknown-0' }]);
    const again = heal(plan(), due.state, [inst(0), inst(1), inst(2), stray], NOW + 11_000);
    expect(again.events).toEqual([]);
  });

  it('treats an instance of another revision as a stray, whatever rollout started it', () => {
    const old = inst(5, { revision: 'b'.repeat(40) });
    const d = heal(plan(), EMPTY_HEAL_STATE, [inst(0), inst(1), inst(2), old], NOW);
    expect(d.judged[3]).toMatchObject({ verdict: 'stray' });
    expect(d.judged[3]?.detail).toContain('runs bbbbbbbbbbbb');
  });

  it('removes surplus instances, the unrouted and unhealthy-looking first', () => {
    const d = heal(
      plan(),
      EMPTY_HEAL_STATE,
      [inst(0), inst(1), inst(2), inst(3, { routed: false }), inst(4)],
      NOW,
    );
    expect(
      d.judged
        .filter((j) => j.verdict === 'surplus')
        .map((j) => j.instance.id)
        .sort(),
    ).toEqual(['c3', 'c4']);
    expect(d.actions).toEqual([
      { kind: 'stop', instanceId: 'c3', slot: 'r-1-3', reason: 'surplus' },
      { kind: 'unroute', instanceIds: ['c4'] },
    ]);
  });

  it('starts no more than maxSurge allows while bad instances are still present', () => {
    const before = after(plan(), [inst(0), inst(1), inst(2)]);
    const d = heal(
      plan(),
      before,
      [
        inst(0),
        inst(1, { state: 'exited', exitCode: 1 }),
        inst(2, { state: 'exited', exitCode: 1 }),
      ],
      NOW,
    );
    expect(d.actions.filter((a) => a.kind === 'start')).toHaveLength(1);
  });

  it('asks again for a start not seen yet, under the same slot, without counting it twice', () => {
    const before = after(plan(), [inst(0), inst(1), inst(2)]);
    const d = heal(plan(), before, [inst(0), inst(1)], NOW);
    const again = heal(plan(), d.state, [inst(0), inst(1)], NOW + 500);
    expect(again.actions).toEqual([
      { kind: 'start', slot: 'r-1-3', revision: SHA, image: IMAGE, host: 'local' },
    ]);
    expect(again.events).toEqual([]);
  });

  it('with self-heal off, tells the drift once and does nothing', () => {
    const off = plan({ selfHeal: false });
    const before = after(off, [inst(0), inst(1), inst(2)]);
    const d = heal(off, before, [inst(0), inst(1)], NOW);
    expect(d.actions).toEqual([]);
    expect(d.events).toMatchObject([{ kind: 'drift', detail: '2 of 3 replicas healthy' }]);
    expect(heal(off, d.state, [inst(0), inst(1)], NOW + 1000).events).toEqual([]);
  });
});

describe('heal: properties over any world', () => {
  const world = fc.record({
    replicas: fc.integer({ min: 0, max: 6 }),
    maxSurge: fc.integer({ min: 1, max: 3 }),
    selfHeal: fc.boolean(),
    instances: fc.array(
      fc.record({
        state: fc.constantFrom('running', 'exited', 'restarting', 'created', 'dead'),
        routed: fc.boolean(),
        revision: fc.constantFrom(SHA, 'b'.repeat(40)),
        rolloutId: fc.constantFrom('r-1', 'r-x'),
        failing: fc.integer({ min: 0, max: 4 }),
        passing: fc.integer({ min: 0, max: 3 }),
      }),
      { maxLength: 9 },
    ),
    elapsed: fc.integer({ min: 0, max: 20_000 }),
  });

  it('never starts another revision, never exceeds replicas + surge, never stops a routed instance, acts only on what it sees', () => {
    fc.assert(
      fc.property(world, (w) => {
        const p = plan({ replicas: w.replicas, maxSurge: w.maxSurge, selfHeal: w.selfHeal });
        const observed = w.instances.map((i, n) =>
          inst(n, {
            state: i.state as HealInstance['state'],
            routed: i.routed,
            revision: i.revision,
            rolloutId: i.rolloutId,
            probes: [
              ...fails(i.failing),
              ...passes(i.passing).map((x) => ({ ...x, at: x.at + 1 })),
            ],
          }),
        );
        const first = heal(p, EMPTY_HEAL_STATE, observed, NOW);
        const d = heal(p, first.state, observed, NOW + w.elapsed);
        const ids = new Set(observed.map((o) => o.id));
        const routed = new Set(observed.filter((o) => o.routed).map((o) => o.id));
        const starts = d.actions.filter((a) => a.kind === 'start');
        for (const a of d.actions) {
          if (a.kind === 'start') expect([a.revision, a.image]).toEqual([SHA, IMAGE]);
          if (a.kind === 'stop') {
            expect(ids.has(a.instanceId)).toBe(true);
            expect(routed.has(a.instanceId)).toBe(false);
          }
          if (a.kind === 'route' || a.kind === 'unroute')
            for (const id of a.instanceIds) expect(ids.has(id)).toBe(true);
        }
        const good = d.judged.filter(
          (j) => j.verdict === 'healthy' || j.verdict === 'starting',
        ).length;
        // Never more of the record than its replica count, counting starts asked for.
        expect(Math.min(good, w.replicas) + starts.length).toBeLessThanOrEqual(
          Math.max(w.replicas, good),
        );
        const present = observed.filter((o) => o.state !== 'removing').length;
        const fresh = starts.filter((a) => a.kind === 'start' && !(a.slot in first.state.pending));
        if (fresh.length > 0)
          expect(present + d.pendingStarts).toBeLessThanOrEqual(w.replicas + w.maxSurge + present);
        if (!w.selfHeal) expect(d.actions).toEqual([]);
        // Told once: the same world again tells nothing new (routing is repeated until it lands).
        const third = heal(p, d.state, observed, NOW + w.elapsed + 1);
        expect(third.events.filter((e) => e.kind !== 'routed' && e.kind !== 'started')).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('heal: crash-loop back-off', () => {
  it('replaces each replica once freely, then waits twice as long each time', () => {
    const p = plan({ replicas: 2 });
    expect(startBackoff([], 2, NOW)).toBeNull();
    expect(startBackoff([NOW - 1000], 2, NOW)).toBeNull();
    // Two starts in the window (one per replica): the third waits 10 s after the last.
    expect(startBackoff([NOW - 3000, NOW - 1000], 2, NOW)).toBe(NOW - 1000 + 10_000);
    expect(startBackoff([NOW - 5000, NOW - 3000, NOW - 1000], 2, NOW)).toBe(NOW - 1000 + 20_000);
    // Starts older than the window are forgiven.
    expect(startBackoff([NOW - 11 * 60_000, NOW - 1000], 2, NOW)).toBeNull();
    // Capped at five minutes.
    const many = Array.from({ length: 20 }, (_, i) => NOW - 1000 - i);
    expect(startBackoff(many, 2, NOW)).toBe(NOW - 1000 + 5 * 60_000);

    // In a pass: an instance lost again after two recent starts waits, and blame is kept for later.
    const before = after(p, [inst(0), inst(1)]);
    const looping = { ...before, recentStarts: [NOW - 3000, NOW - 1000] };
    const d = heal(p, looping, [inst(0)], NOW);
    expect(d.actions.filter((a) => a.kind === 'start')).toEqual([]);
    expect(d.backoffUntil).toBe(NOW + 9000);
    const later = heal(p, d.state, [inst(0)], NOW + 9000);
    expect(later.events).toMatchObject([{ kind: 'replaced', slot: 'r-1-1', cause: 'removed' }]);
  });
});

describe('heal: an instance that never started', () => {
  it('replaces one left in `created` for 2 minutes, not sooner', () => {
    const stuck = inst(2, { state: 'created', routed: false, startedAt: null });
    const first = heal(plan(), EMPTY_HEAL_STATE, [inst(0), inst(1), stuck], NOW);
    expect(first.actions).toEqual([]);
    const later = heal(plan(), first.state, [inst(0), inst(1), stuck], NOW + 120_000);
    expect(later.actions).toEqual([
      { kind: 'stop', instanceId: 'c2', slot: 'r-1-2', reason: 'unhealthy' },
      { kind: 'start', slot: 'r-1-3', revision: SHA, image: IMAGE, host: 'local' },
    ]);
    expect(later.events).toMatchObject([{ kind: 'replaced', detail: 'created but never started' }]);
  });
});

describe('heal: a host that does not answer', () => {
  const two = plan({ hosts: ['one', 'two'] });
  const spread = [inst(0, { host: 'one' }), inst(1, { host: 'one' }), inst(2, { host: 'two' })];

  it('counts what ran there as replicas: no successor elsewhere, nothing told lost', () => {
    const before = after(two, spread);
    const away = plan({ hosts: ['one'], unreachable: ['two'] });
    const d = heal(away, before, spread.slice(0, 2), NOW);
    expect(d.actions).toEqual([]);
    expect(d.events).toEqual([]);
    // Remembered still, so the pass after the host returns knows it again.
    expect(Object.keys(d.state.instances).sort()).toEqual(['c0', 'c1', 'c2']);
    const back = heal(two, d.state, spread, NOW + 1000);
    expect(back.actions).toEqual([]);
    expect(back.judged.map((j) => j.verdict)).toEqual(['healthy', 'healthy', 'healthy']);
  });

  it('starts nothing for replicas it never met while a host is away (after a rollout, a restart)', () => {
    const away = plan({ hosts: ['one'], unreachable: ['two'] });
    const d = heal(away, EMPTY_HEAL_STATE, spread.slice(0, 2), NOW);
    expect(d.actions).toEqual([]);
  });

  it('still heals the hosts that answer, placing successors only there', () => {
    const before = after(two, spread);
    const away = plan({ hosts: ['one'], unreachable: ['two'] });
    const d = heal(away, before, [inst(0, { host: 'one' })], NOW);
    expect(d.actions).toEqual([
      { kind: 'start', slot: 'r-1-3', revision: SHA, image: IMAGE, host: 'one' },
    ]);
    expect(d.events).toMatchObject([{ kind: 'replaced', instanceId: 'c1', cause: 'removed' }]);
  });

  it('puts back what the host lost once it answers without it', () => {
    const before = after(two, spread);
    const away = heal(
      plan({ hosts: ['one'], unreachable: ['two'] }),
      before,
      spread.slice(0, 2),
      NOW,
    );
    const d = heal(two, away.state, spread.slice(0, 2), NOW + 1000);
    expect(d.actions).toEqual([
      { kind: 'start', slot: 'r-1-3', revision: SHA, image: IMAGE, host: 'two' },
    ]);
    expect(d.events).toMatchObject([{ kind: 'replaced', instanceId: 'c2', cause: 'removed' }]);
  });
});
