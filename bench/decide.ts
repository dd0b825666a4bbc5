/**
 * bench/decide: the cost of one rollout decision (`decide()`) and one reconcile pass (`heal()`)
 * as the number of instances grows, next to a plain peer computation over the same data in the
 * same run: JSON-serializing the observation the call is given (linear in n, what any controller
 * pays at least once per pass to persist or log its state).
 *
 *   npx tsx bench/decide.ts [--sizes 10,100,1000,10000] [--budget-ms 300]
 *
 * Both calls run on the controller's event loop, so they must grow like n·log n at most: the
 * "µs/instance" column should stay roughly flat and the ratio to the peer should not climb with n.
 * (Before the fix, 20,000 replicas took 9 s in one decision.) Scenarios:
 * - decide, adopt: a resumed rollout whose state knows nothing, n old instances found running
 *   (each is matched, adopted, tallied);
 * - decide, steady: the next decision, every instance tracked, a surge of n/2 starting;
 * - heal: n/2 healthy routed instances and n/2 exited ones, so n/2 are replaced and placed.
 */
import { parseArgs } from 'node:util';
import { EMPTY_HEAL_STATE, heal, type HealInstance, type HealPlan } from '../src/reconcile/heal.js';
import { decide, initialState, type Observed, type RolloutPlan } from '../src/rollout/index.js';
import type { ObservedInstance } from '../src/rollout/observed.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,100,1000,10000' },
    'budget-ms': { type: 'string', default: '300' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const BUDGET_MS = Number(values['budget-ms']);
const NOW = 1_700_000_000_000;
const HOSTS = ['h1', 'h2', 'h3'];
const HEALTH = {
  check: { kind: 'http', path: '/healthz', expect: 200 },
  intervalMs: 1_000,
  timeoutMs: 500,
  startPeriodMs: 0,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  maxRestarts: 2,
} as const;
const OLD = { sha: 'a'.repeat(40), image: 'reg/hello@sha256:old', release: 1 };
const NEW = { sha: 'b'.repeat(40), image: 'reg/hello@sha256:new', release: 2 };

function rolloutPlan(n: number): RolloutPlan {
  return {
    rolloutId: 'r1',
    app: 'hello',
    env: 'production',
    kind: 'deploy',
    from: OLD,
    to: NEW,
    replicas: n,
    maxSurge: Math.max(1, Math.floor(n / 2)),
    maxUnavailable: 0,
    health: HEALTH,
    progressDeadlineMs: 120_000,
    bakeMs: 0,
    drainMs: 1_000,
    autoRollback: true,
    errorBudget: { maxErrorRate: 0.05, minRequests: 20 },
    hosts: HOSTS,
  };
}

/** Five passing probes each: what a prober's ring buffer hands over. */
function probes(): ObservedInstance['probes'] {
  return Array.from({ length: 5 }, (_, k) => ({
    at: NOW - 5_000 + k * 1_000,
    ok: true,
    detail: '',
  }));
}

function oldInstance(k: number): HealInstance {
  return {
    id: `c${k.toString(16).padStart(12, '0')}`,
    slot: `r0-${k}`,
    revision: OLD.sha,
    release: OLD.release,
    host: HOSTS[k % HOSTS.length] ?? 'h1',
    state: 'running',
    restartCount: 0,
    exitCode: null,
    startedAt: NOW - 60_000,
    routed: true,
    probes: probes(),
    rolloutId: 'r0',
    image: OLD.image,
  };
}

interface Row {
  readonly what: string;
  readonly n: number;
  readonly ms: number;
  readonly peerMs: number;
}

/** Median wall time of `fn`, repeated until the budget is spent (at least 3 runs). */
function time(fn: () => unknown): number {
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start < BUDGET_MS && samples.length < 200)) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

function benchDecide(n: number): Row[] {
  const plan = rolloutPlan(n);
  const observed: Observed = {
    instances: Array.from({ length: n }, (_, k) => oldInstance(k)),
    edge: null,
  };
  const first = { plan, state: initialState(plan), observed, intents: [], now: NOW };
  const adopted = decide(first).state;
  const next = { plan, state: adopted, observed, intents: [], now: NOW + 1_000 };
  const peer = time(() => JSON.stringify(observed));
  return [
    { what: 'decide, adopt', n, ms: time(() => decide(first)), peerMs: peer },
    { what: 'decide, steady', n, ms: time(() => decide(next)), peerMs: peer },
  ];
}

function benchHeal(n: number): Row {
  const plan: HealPlan = {
    app: 'hello',
    env: 'production',
    rolloutId: 'r0',
    revision: OLD,
    replicas: n,
    maxSurge: Math.max(1, Math.floor(n / 2)),
    hosts: HOSTS,
    health: HEALTH,
    strayGraceMs: 60_000,
    selfHeal: true,
    knownRollouts: ['r0'],
  };
  const observed = Array.from({ length: n }, (_, k) => {
    const o = oldInstance(k);
    return k % 2 === 0 ? o : { ...o, state: 'exited' as const, exitCode: 1, routed: false };
  });
  const peer = time(() => JSON.stringify(observed));
  return {
    what: 'heal',
    n,
    ms: time(() => heal(plan, EMPTY_HEAL_STATE, observed, NOW)),
    peerMs: peer,
  };
}

// One untimed pass first, so the smallest sizes are not measured before the JIT has run.
for (const n of SIZES.filter((k) => k <= 1_000)) {
  benchDecide(n);
  benchHeal(n);
}
const rows: Row[] = [];
for (const n of SIZES) rows.push(...benchDecide(n), benchHeal(n));

const pad = (s: string, w: number): string => s.padStart(w);
console.log(
  `${'call'.padEnd(16)}${pad('instances', 10)}${pad('ms', 10)}${pad('µs/instance', 13)}${pad('peer ms', 10)}${pad('ratio', 8)}`,
);
for (const r of rows) {
  console.log(
    `${r.what.padEnd(16)}${pad(String(r.n), 10)}${pad(r.ms.toFixed(3), 10)}${pad(((r.ms * 1000) / r.n).toFixed(2), 13)}${pad(r.peerMs.toFixed(3), 10)}${pad((r.ms / r.peerMs).toFixed(1), 8)}`,
  );
}
console.log('peer: JSON.stringify of the same observed instances (linear in n)');
