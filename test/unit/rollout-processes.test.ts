/**
 * Process types in the rollout core: every process type rolls under the same rules, a failure in
 * any of them rolls the whole release back, a scale-only release adds and removes instances
 * without replacing any, and a restart replaces every instance of the restarted processes.
 * Driven through `decide` against a small deterministic world of instances per process.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/app-spec.js';
import {
  decide,
  initialState,
  planRollout,
  type Action,
  type Observed,
  type Revision,
  type RolloutPlan,
  type RolloutState,
} from '../../src/rollout/index.js';

const OLD: Revision = { sha: 'a'.repeat(40), image: 'reg/app@sha256:old', release: 1 };
const NEW: Revision = { sha: 'b'.repeat(40), image: 'reg/app@sha256:new', release: 2 };
const INTERVAL = 1000;

/** How an instance behaves: healthy once running (probes pass), or it exits soon after start. */
type Behaviour = 'healthy' | 'crash';

interface Box {
  id: string;
  slot: string;
  revision: string;
  release: number | null;
  process: string;
  startedAt: number;
  state: 'running' | 'exited';
  exitCode: number | null;
  routed: boolean;
  /** Taken out of the edge after serving: on its way out. */
  unrouted: boolean;
  behaviour: Behaviour;
}

interface Sizes {
  readonly web: number;
  readonly worker: number;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
}

function spec(s: Sizes) {
  return parseAppSpec(
    [
      'app: shop',
      'health: { http: { path: /healthz }, interval: 1s, startPeriod: 0s, healthyThreshold: 1, unhealthyThreshold: 1 }',
      `rollout: { maxSurge: ${s.maxSurge}, maxUnavailable: ${s.maxUnavailable}, progressDeadline: 120s }`,
      'processes:',
      `  web: { replicas: ${s.web} }`,
      `  worker: { command: [sh, -c, work], replicas: ${s.worker} }`,
    ].join('\n'),
  );
}

function plan(
  s: Sizes,
  from: Revision | null,
  to: Revision,
  extra: Partial<Parameters<typeof planRollout>[0]> = {},
): RolloutPlan {
  return planRollout({
    rolloutId: 'r9',
    env: 'production',
    spec: spec(s),
    from,
    to,
    hosts: ['h1', 'h2'],
    drainMs: 0,
    ...extra,
  });
}

/** A world of instances that applies actions and checks, after each one, the per-process cap. */
class World {
  now = 1_000_000;
  boxes: Box[] = [];
  violations: string[] = [];
  finish: Extract<Action, { kind: 'finish' }> | undefined;
  private ids = 0;

  constructor(
    readonly plan: RolloutPlan,
    private readonly behaviour: (process: string, revision: string) => Behaviour,
  ) {}

  /** Instances of `r` already serving, `n` per process (an earlier release). */
  seed(r: Revision, counts: Record<string, number>): void {
    for (const [process, n] of Object.entries(counts)) {
      for (let k = 0; k < n; k += 1) {
        const b = this.add(
          `old-${process}-${k}`,
          r.sha,
          r.instancesOf ?? r.release ?? null,
          process,
        );
        b.startedAt = this.now - 3_600_000;
        b.routed = process === 'web';
      }
    }
  }

  observe(): Observed {
    return {
      instances: this.boxes.map((b) => ({
        id: b.id,
        slot: b.slot,
        revision: b.revision,
        release: b.release,
        ...(b.process === 'web' ? {} : { process: b.process }),
        host: 'h1',
        state: b.state,
        restartCount: 0,
        exitCode: b.exitCode,
        startedAt: b.startedAt,
        routed: b.routed,
        probes:
          b.process === 'web' && b.state === 'running'
            ? [{ at: this.now, ok: b.behaviour === 'healthy', detail: '200' }]
            : [],
      })),
      edge: null,
    };
  }

  apply(a: Action): void {
    switch (a.kind) {
      case 'start':
        if (!this.boxes.some((b) => b.slot === a.slot))
          this.add(a.slot, a.revision, a.release ?? null, a.process ?? 'web');
        break;
      case 'route':
      case 'unroute':
        for (const b of this.boxes) {
          if (!a.instanceIds.includes(b.id)) continue;
          b.unrouted = b.unrouted || (b.routed && a.kind === 'unroute');
          b.routed = a.kind === 'route';
        }
        break;
      case 'stop':
        this.boxes = this.boxes.filter((b) => b.id !== a.instanceId);
        break;
      case 'finish':
        this.finish = a;
        break;
    }
    // Unrouted web instances are terminating: at most maxSurge of them are let off the surge
    // budget, their drain overlapping the next start (see rolling.ts).
    const surge = this.plan.maxSurge;
    for (const p of this.plan.processes ?? []) {
      const mine = this.boxes.filter((b) => b.process === p.name);
      const terminating = mine.filter((b) => b.unrouted && !b.routed).length;
      const n = mine.length - Math.min(terminating, surge);
      if (n > p.replicas + surge)
        this.violations.push(`${p.name}: ${n} instances > ${p.replicas} + ${surge}`);
      if (mine.length > p.replicas + 2 * surge)
        this.violations.push(`${p.name}: ${mine.length} instances > ${p.replicas} + 2 × ${surge}`);
    }
  }

  tick(): void {
    this.now += INTERVAL;
    for (const b of this.boxes) {
      if (b.behaviour === 'crash' && b.state === 'running' && this.now - b.startedAt >= INTERVAL)
        Object.assign(b, { state: 'exited', exitCode: 3, routed: false });
    }
  }

  private add(slot: string, revision: string, release: number | null, process: string): Box {
    this.ids += 1;
    const b: Box = {
      id: `c${this.ids}`,
      slot,
      revision,
      release,
      process,
      startedAt: this.now,
      state: 'running',
      exitCode: null,
      routed: false,
      unrouted: false,
      behaviour: this.behaviour(process, revision),
    };
    this.boxes.push(b);
    return b;
  }
}

/** Runs a rollout to its end (or 300 decisions); returns the world and the ids stopped. */
function drive(w: World): { state: RolloutState; stopped: string[] } {
  let state = initialState(w.plan);
  const stopped: string[] = [];
  for (let step = 0; step < 300 && w.finish === undefined; step += 1) {
    const d = decide({ plan: w.plan, state, observed: w.observe(), intents: [], now: w.now });
    state = d.state;
    for (const a of d.actions) {
      if (a.kind === 'stop') stopped.push(a.instanceId);
      w.apply(a);
    }
    w.tick();
  }
  return { state, stopped };
}

const count = (w: World, process: string, revision: string) =>
  w.boxes.filter((b) => b.process === process && b.revision === revision).length;

describe('process types in the rollout core', () => {
  it.each([
    { name: 'a first deploy', from: null, web: 2, worker: 1 },
    { name: 'a deploy over an old release', from: OLD, web: 3, worker: 2 },
    { name: 'a worker-only formation', from: OLD, web: 0, worker: 2 },
  ])('rolls every process type of $name to the new release', ({ from, web, worker }) => {
    const sizes = { web, worker, maxSurge: 1, maxUnavailable: 0 };
    const w = new World(plan(sizes, from, NEW), () => 'healthy');
    if (from !== null) w.seed(from, { web, worker });
    drive(w);
    expect(w.finish?.outcome).toBe('succeeded');
    expect(w.violations).toEqual([]);
    expect(count(w, 'web', NEW.sha)).toBe(web);
    expect(count(w, 'worker', NEW.sha)).toBe(worker);
    expect(w.boxes).toHaveLength(web + worker);
    // Only the routed process is in the edge.
    expect(w.boxes.filter((b) => b.routed).every((b) => b.process === 'web')).toBe(true);
  });

  it.each([
    { name: 'the worker crashes', bad: 'worker' },
    { name: 'the web crashes', bad: 'web' },
  ])('rolls the whole release back when $name', ({ bad }) => {
    const sizes = { web: 2, worker: 2, maxSurge: 1, maxUnavailable: 0 };
    const w = new World(plan(sizes, OLD, NEW), (p, r) =>
      p === bad && r === NEW.sha ? 'crash' : 'healthy',
    );
    w.seed(OLD, { web: 2, worker: 2 });
    drive(w);
    expect(w.finish?.outcome).toBe('failed');
    expect(w.finish?.restored).toBe(true);
    expect(w.violations).toEqual([]);
    expect(w.boxes.filter((b) => b.revision === NEW.sha)).toEqual([]);
    expect(count(w, 'web', OLD.sha)).toBe(2);
    expect(count(w, 'worker', OLD.sha)).toBe(2);
  });

  it.each([
    { name: 'scale up web, down worker', web: [2, 4], worker: [2, 1] },
    { name: 'scale a process to zero', web: [2, 2], worker: [1, 0] },
    { name: 'scale up from zero', web: [1, 1], worker: [0, 2] },
  ])('a scale-only release ($name) adds and removes, never replaces', ({ web, worker }) => {
    // v3 differs from v2 only in scale: its instances are v2's.
    const v2: Revision = { ...NEW, release: 2 };
    const v3: Revision = { ...NEW, release: 3, instancesOf: 2 };
    const sizes = { web: web[0]!, worker: worker[0]!, maxSurge: 1, maxUnavailable: 0 };
    const p = plan(sizes, v2, v3, { scale: { web: web[1]!, worker: worker[1]! } });
    const w = new World(p, () => 'healthy');
    w.seed(v2, { web: web[0]!, worker: worker[0]! });
    const before = new Set(w.boxes.map((b) => b.id));
    const { stopped } = drive(w);
    expect(w.finish?.outcome).toBe('succeeded');
    expect(count(w, 'web', NEW.sha)).toBe(web[1]);
    expect(count(w, 'worker', NEW.sha)).toBe(worker[1]);
    // Only surplus left; every instance kept is one that ran before or a new one for the rise.
    expect(stopped).toHaveLength(
      Math.max(0, web[0]! - web[1]!) + Math.max(0, worker[0]! - worker[1]!),
    );
    const kept = w.boxes.filter((b) => before.has(b.id)).length;
    expect(kept).toBe(Math.min(web[0]!, web[1]!) + Math.min(worker[0]!, worker[1]!));
    expect(w.boxes.every((b) => b.release === 2)).toBe(true);
  });

  it('a restart replaces every instance of the restarted process through the health gates', () => {
    const sizes = { web: 3, worker: 1, maxSurge: 1, maxUnavailable: 0 };
    const w = new World(plan(sizes, NEW, NEW, { restart: ['web'] }), () => 'healthy');
    w.seed(NEW, { web: 3, worker: 1 });
    const oldWeb = w.boxes.filter((b) => b.process === 'web').map((b) => b.id);
    const oldWorker = w.boxes.filter((b) => b.process === 'worker').map((b) => b.id);
    drive(w);
    expect(w.finish?.outcome).toBe('succeeded');
    expect(w.violations).toEqual([]);
    const web = w.boxes.filter((b) => b.process === 'web');
    expect(web).toHaveLength(3);
    expect(web.some((b) => oldWeb.includes(b.id))).toBe(false);
    // The worker was not asked to restart: it is the same instance.
    expect(w.boxes.filter((b) => b.process === 'worker').map((b) => b.id)).toEqual(oldWorker);
  });

  it('a restart of every process (empty list) replaces them all', () => {
    const sizes = { web: 2, worker: 2, maxSurge: 1, maxUnavailable: 0 };
    const w = new World(plan(sizes, NEW, NEW, { restart: [] }), () => 'healthy');
    w.seed(NEW, { web: 2, worker: 2 });
    const before = new Set(w.boxes.map((b) => b.id));
    drive(w);
    expect(w.finish?.outcome).toBe('succeeded');
    expect(w.boxes).toHaveLength(4);
    expect(w.boxes.some((b) => before.has(b.id))).toBe(false);
  });

  it('a failed restart stops the new instances and keeps the old', () => {
    const sizes = { web: 2, worker: 1, maxSurge: 1, maxUnavailable: 0 };
    let started = 0;
    const w = new World(plan(sizes, NEW, NEW, { restart: [] }), () =>
      started++ < 3 ? 'healthy' : 'crash',
    );
    w.seed(NEW, { web: 2, worker: 1 });
    const before = w.boxes.map((b) => b.id).sort();
    drive(w);
    expect(w.finish?.outcome).toBe('failed');
    expect(w.finish?.restored).toBe(true);
    expect(w.boxes.map((b) => b.id).sort()).toEqual(before);
  });

  it('retires the instances of a process type the new release no longer has', () => {
    const sizes = { web: 2, worker: 0, maxSurge: 1, maxUnavailable: 0 };
    const w = new World(plan(sizes, OLD, NEW), () => 'healthy');
    w.seed(OLD, { web: 2, cron: 1 });
    drive(w);
    expect(w.finish?.outcome).toBe('succeeded');
    expect(w.boxes.map((b) => [b.process, b.revision])).toEqual([
      ['web', NEW.sha],
      ['web', NEW.sha],
    ]);
  });

  it('keeps plans and instances from before process types working as one web', () => {
    const p = plan({ web: 2, worker: 0, maxSurge: 1, maxUnavailable: 0 }, OLD, NEW);
    const legacy: RolloutPlan = { ...p, processes: undefined };
    const w = new World(legacy, () => 'healthy');
    w.seed(OLD, { web: 2 });
    drive(w);
    expect(w.finish?.outcome).toBe('succeeded');
    expect(count(w, 'web', NEW.sha)).toBe(2);
  });

  it('holds the per-process cap and never leaves two releases mixed (property)', () => {
    const sizes = fc
      .record({
        web: fc.integer({ min: 0, max: 4 }),
        worker: fc.integer({ min: 0, max: 3 }),
        maxSurge: fc.integer({ min: 0, max: 2 }),
        maxUnavailable: fc.integer({ min: 0, max: 2 }),
      })
      .filter((s) => s.maxSurge + s.maxUnavailable > 0 && s.web + s.worker > 0);
    const bad = fc.constantFrom('none', 'web', 'worker');
    fc.assert(
      fc.property(sizes, bad, fc.boolean(), (s, broken, first) => {
        const from = first ? null : OLD;
        const w = new World(plan(s, from, NEW), (p, r) =>
          p === broken && r === NEW.sha ? 'crash' : 'healthy',
        );
        if (from !== null) w.seed(from, { web: s.web, worker: s.worker });
        drive(w);
        expect(w.violations).toEqual([]);
        expect(w.finish).toBeDefined();
        const revisions = new Set(w.boxes.map((b) => b.revision));
        expect(revisions.size).toBeLessThanOrEqual(1);
        const wantNew = w.finish?.outcome === 'succeeded';
        if (wantNew) expect(w.boxes).toHaveLength(s.web + s.worker);
        // A release that cannot run (its crashing process has replicas) never succeeds.
        const crashes = broken === 'web' ? s.web > 0 : broken === 'worker' ? s.worker > 0 : false;
        if (crashes) expect(w.finish?.outcome).toBe('failed');
      }),
      { numRuns: 150 },
    );
  });
});
