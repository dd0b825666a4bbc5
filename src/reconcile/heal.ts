/**
 * The reconciler's decision, pure like the rollout core: given what the record says should run
 * (the current release), what runs (instances found by label, whether the edge routes them, their
 * probe results) and what it remembers from earlier passes, it returns the actions that bring the
 * environment back to its record — the very actions a rollout uses, applied by the same executor —
 * and the events worth telling. No I/O and no clock: `now` comes in.
 *
 * Per instance, in order of what matters to traffic:
 *   - bad (exited, removed, crash-looping, or failing `unhealthyThreshold` checks): out of the edge
 *     first, then stopped after the executor's drain; a successor is started for it;
 *   - stray (a gantry label, but a revision other than the recorded one, or a rollout nobody
 *     knows): left alone for the grace period, then unrouted and removed;
 *   - surplus (more of the recorded revision than its replica count): unrouted and removed;
 *   - healthy and unrouted: routed.
 * Starts respect the replica count and `maxSurge` (bad instances still present count against it),
 * and only ever start the recorded revision.
 */
import type { Action } from '../rollout/actions.js';
import { freshTally, tallyHealth, type HealthTally } from '../rollout/health.js';
import type { ObservedInstance } from '../rollout/observed.js';
import {
  instanceRelease,
  placer,
  runsRevision,
  type HealthRules,
  type Revision,
} from '../rollout/plan.js';
import type { HealEvent, ReplaceCause } from './events.js';

/** What the record says should run in one environment: the current release. */
export interface HealPlan {
  readonly app: string;
  readonly env: string;
  /** The rollout that made the release current; replacements are started under its name. */
  readonly rolloutId: string;
  readonly revision: Revision;
  readonly replicas: number;
  readonly maxSurge: number;
  /** The hosts successors may be placed on: those that answer. */
  readonly hosts: readonly string[];
  /**
   * Hosts that did not answer: what ran there is unknown, not gone. Remembered instances there
   * still count as replicas (no successor elsewhere, nothing removed as surplus for them); the
   * pass after the host returns sees them again. Absent: none.
   */
  readonly unreachable?: readonly string[] | undefined;
  readonly health: HealthRules;
  /** The process type healed (heal-processes.ts runs one pass per type); absent: `web`. */
  readonly process?: string | undefined;
  /** False for a process the edge never routes (a worker); absent: routed. */
  readonly routed?: boolean | undefined;
  readonly strayGraceMs: number;
  /** Off: the same judgement, no actions; drift is told instead. */
  readonly selfHeal: boolean;
  /** Rollouts whose records exist: an instance labelled with another one is a stray. */
  readonly knownRollouts: readonly string[];
}

/** An instance as the reconciler sees it: the rollout core's view plus its labels. */
export interface HealInstance extends ObservedInstance {
  readonly rolloutId: string;
  readonly image: string;
}

export interface Remembered {
  readonly slot: string;
  /** Where it runs; absent in states from before hosts were remembered. */
  readonly host?: string | undefined;
  readonly health: HealthTally;
  /** When it was first judged a stray (the grace period counts from here). */
  readonly strayedAt: number | null;
  /** When it was first seen in the engine's `created` state (never started). */
  readonly createdAt?: number | null | undefined;
  /** Why it is on its way out, once decided (announced once). */
  readonly leaving: {
    readonly cause: ReplaceCause | 'stray' | 'surplus';
    readonly detail: string;
  } | null;
}

/** What the reconciler keeps between passes (in memory; a new owner starts from an empty one). */
export interface HealState {
  readonly instances: Readonly<Record<string, Remembered>>;
  /** Start requests not yet seen in the runtime, by slot: asked for again until they appear. */
  readonly pending: Readonly<Record<string, { readonly at: number; readonly host: string }>>;
  /** Instances that left without being asked, not yet given a successor: blamed by the next start. */
  readonly lost: readonly { readonly slot: string; readonly id: string; readonly detail: string }[];
  readonly nextSlot: number;
  /** When the last successors were started (bounded): a crash loop backs off, like a kubelet's. */
  readonly recentStarts: readonly number[];
  /** The drift last told while self-heal is off, so it is told once. */
  readonly drift: string | null;
}

export const EMPTY_HEAL_STATE: HealState = {
  instances: {},
  pending: {},
  lost: [],
  nextSlot: 0,
  recentStarts: [],
  drift: null,
};

export type Verdict = 'healthy' | 'starting' | 'unhealthy' | 'stray' | 'surplus';

/** One instance's judgement, for the status and the timeline. */
export interface Judged {
  readonly instance: HealInstance;
  readonly verdict: Verdict;
  readonly detail: string | null;
}

export interface HealDecision {
  readonly state: HealState;
  readonly actions: readonly Action[];
  readonly events: readonly HealEvent[];
  readonly judged: readonly Judged[];
  /** Start requests in flight (asked for, not yet seen). */
  readonly pendingStarts: number;
  /** What differs from the record, in words; empty when nothing does. */
  readonly drift: readonly string[];
  /** Successors owed but held back until then (ms): instances keep dying soon after starting. */
  readonly backoffUntil: number | null;
}

/**
 * Crash-loop back-off: within this window, each replica may be replaced once freely; every start
 * beyond that waits twice as long as the one before (10 s, 20 s, 40 s… up to 5 min), so an app
 * that dies on start does not churn the engine or flood the timeline.
 */
export const START_WINDOW_MS = 10 * 60_000;
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

/** When the next successor may start, given the recent starts; null when it may start now. */
export function startBackoff(
  recentStarts: readonly number[],
  replicas: number,
  now: number,
): number | null {
  const recent = recentStarts.filter((t) => now - t < START_WINDOW_MS);
  const over = recent.length - Math.max(1, replicas);
  if (over < 0) return null;
  const last = Math.max(...recent);
  const until = last + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** over);
  return until > now ? until : null;
}

/** An instance left in `created` (never started; a pod still pending: a slow image pull) this long is replaced. */
const CREATED_GIVE_UP_MS = 120_000;

/** A start request unseen this long is abandoned (the engine lost it) and made again under a new slot. */
const PENDING_GIVE_UP_MS = 60_000;

/** Decides one reconcile pass. Safe to repeat: actions are idempotent, events fire on transitions. */
export function heal(
  plan: HealPlan,
  state: HealState,
  observed: readonly HealInstance[],
  now: number,
): HealDecision {
  const known = new Set(plan.knownRollouts);
  const remembered: Record<string, Remembered> = {};
  const events: HealEvent[] = [];
  const unroute: string[] = [];
  const stops: Action[] = [];
  const judged: Judged[] = [];
  const lost = [...state.lost];
  const present = observed.filter((o) => o.state !== 'removing');

  // Instances that vanished without being asked to: their successors will say why. Those on a
  // host that did not answer are kept as they were, and count as replicas while it is away.
  const away = new Set(plan.unreachable ?? []);
  const seenIds = new Set(present.map((o) => o.id));
  let unknown = 0;
  for (const [id, r] of Object.entries(state.instances)) {
    if (seenIds.has(id)) continue;
    if (r.host !== undefined && away.has(r.host)) {
      remembered[id] = r;
      if (r.leaving === null && r.strayedAt === null && r.health.status === 'healthy') unknown += 1;
      continue;
    }
    if (r.leaving !== null) continue;
    lost.push({ slot: r.slot, id, detail: 'removed' });
  }

  const good: { o: HealInstance; r: Remembered }[] = [];
  const bad: { o: HealInstance; r: Remembered }[] = [];
  for (const o of present) {
    const prev = state.instances[o.id];
    // An instance without a release label (from before releases) of the recorded commit is ours.
    const ours =
      runsRevision(plan.revision, o.revision, o.release, true) &&
      o.image === plan.revision.image &&
      known.has(o.rolloutId);
    if (!ours) {
      const strayedAt = prev?.strayedAt ?? now;
      const why =
        o.revision !== plan.revision.sha
          ? `runs ${o.revision.slice(0, 12)}, the record says ${plan.revision.sha.slice(0, 12)}`
          : known.has(o.rolloutId)
            ? `image ${o.image} is not the recorded ${plan.revision.image}`
            : `rollout ${o.rolloutId} is not known`;
      const due = now - strayedAt >= plan.strayGraceMs;
      let leaving = prev?.leaving ?? null;
      if (due) {
        if (o.routed) unroute.push(o.id);
        else stops.push(stop(o, 'surplus'));
        if (leaving === null) {
          leaving = { cause: 'stray', detail: why };
          events.push({
            kind: 'stray-removed',
            at: now,
            slot: o.slot,
            instanceId: o.id,
            detail: why,
          });
        }
      }
      remembered[o.id] = {
        slot: o.slot,
        host: o.host,
        health: prev?.health ?? freshTally(o.restartCount),
        strayedAt,
        leaving,
      };
      judged.push({ instance: o, verdict: 'stray', detail: why });
      continue;
    }
    const health = tallyHealth(
      prev?.health ?? adoptedTally(o),
      {
        state: o.state,
        restartCount: o.restartCount,
        exitCode: o.exitCode,
        startedAt: o.startedAt ?? now,
        probes: o.probes,
        now,
      },
      plan.health,
    );
    const createdAt = o.state === 'created' ? (prev?.createdAt ?? now) : null;
    // Created and never started (the engine went away between create and start, or refuses the
    // start): a start request of ours gets asked again (pending); anything else is replaced.
    const stuck =
      createdAt !== null && now - createdAt >= CREATED_GIVE_UP_MS && !(o.slot in state.pending);
    const r: Remembered = {
      slot: o.slot,
      host: o.host,
      health: stuck
        ? { ...health, status: 'unhealthy', cause: 'exited', detail: 'created but never started' }
        : health,
      strayedAt: null,
      leaving: prev?.leaving ?? null,
      createdAt,
    };
    if (r.health.status === 'unhealthy' || r.leaving !== null) bad.push({ o, r });
    else good.push({ o, r });
  }

  // Surplus: more good instances than the record's replicas; the least useful go first.
  good.sort((a, b) => usefulness(b) - usefulness(a) || slotOrder(a.o.slot, b.o.slot));
  const surplus = good.splice(plan.replicas);

  for (const { o, r } of bad) {
    const cause: ReplaceCause =
      r.leaving?.cause === 'stray' || r.leaving?.cause === 'surplus'
        ? 'unhealthy'
        : (r.leaving?.cause ?? causeOf(r.health));
    const detail = r.leaving?.detail ?? r.health.detail ?? 'unhealthy';
    // Out of the edge first; stopped (after the executor's drain) once the edge no longer has it.
    if (o.routed) {
      unroute.push(o.id);
      if (r.leaving === null)
        events.push({ kind: 'unrouted', at: now, slot: o.slot, instanceId: o.id, detail });
    } else {
      stops.push(stop(o, 'unhealthy'));
    }
    remembered[o.id] = { ...r, leaving: r.leaving ?? { cause, detail } };
    if (r.leaving === null)
      lost.push({ slot: o.slot, id: o.id, detail: describeCause(cause, detail) });
    judged.push({ instance: o, verdict: 'unhealthy', detail });
  }
  for (const { o, r } of surplus) {
    if (o.routed) unroute.push(o.id);
    else stops.push(stop(o, 'surplus'));
    if (r.leaving === null)
      events.push({ kind: 'surplus-removed', at: now, slot: o.slot, instanceId: o.id });
    remembered[o.id] = {
      ...r,
      leaving: r.leaving ?? { cause: 'surplus', detail: `above ${plan.replicas} replicas` },
    };
    judged.push({ instance: o, verdict: 'surplus', detail: `above ${plan.replicas} replicas` });
  }

  // Healthy instances of the record that the edge does not send traffic to: routed.
  const route: string[] = [];
  const routedSlots: string[] = [];
  for (const { o, r } of good) {
    const up = o.state === 'running' && r.health.status === 'healthy';
    remembered[o.id] = r;
    judged.push({
      instance: o,
      verdict: up ? 'healthy' : 'starting',
      detail: up ? null : (r.health.detail ?? stateDetail(o)),
    });
    if (up && !o.routed && plan.routed !== false) {
      route.push(o.id);
      routedSlots.push(o.slot);
    }
    // Routed but not running (restarting, paused): the edge would only retry elsewhere.
    if (!up && o.routed && o.state !== 'running') unroute.push(o.id);
  }
  if (routedSlots.length > 0) events.push({ kind: 'routed', at: now, slots: routedSlots });

  // Start requests: the ones seen are done; the others are asked for again, or given up on.
  const pending: Record<string, { at: number; host: string }> = {};
  const starts: Action[] = [];
  const seenSlots = new Set(present.map((o) => o.slot));
  for (const [slot, p] of Object.entries(state.pending)) {
    if (seenSlots.has(slot) || now - p.at > PENDING_GIVE_UP_MS) continue;
    pending[slot] = p;
    starts.push(startAction(plan, slot, p.host));
  }

  // Too few: start successors, within the surge allowance (leaving instances still count).
  const missing = plan.replicas - good.length - Object.keys(pending).length - unknown;
  // While a host is away, replicas not seen may run there (a reconciler that did not meet them,
  // after a rollout or a restart): successors only for what was seen to leave a host that answers.
  const wanted = away.size > 0 ? Math.min(missing, lost.length) : missing;
  const present_ = good.length + Object.keys(pending).length + bad.length + surplus.length;
  const room = plan.replicas + plan.maxSurge - present_;
  // A loop, not Math.max(...spread): spreading 100,000 arguments overflows the stack.
  let nextSlot = state.nextSlot;
  for (const o of present) nextSlot = Math.max(nextSlot, slotIndex(plan.rolloutId, o.slot) + 1);
  const place = placer(plan.hosts, [
    ...good.map((g) => g.o.host),
    ...Object.values(pending).map((p) => p.host),
  ]);
  const backoffUntil = wanted > 0 ? startBackoff(state.recentStarts, plan.replicas, now) : null;
  const newStarts = backoffUntil === null ? Math.max(0, Math.min(wanted, room)) : 0;
  const recentStarts = [
    ...state.recentStarts.filter((t) => now - t < START_WINDOW_MS),
    ...Array.from({ length: newStarts }, () => now),
  ].slice(-50);
  let blamed = 0;
  for (let n = 0; n < newStarts; n++) {
    const slot = `${plan.rolloutId}-${nextSlot++}`;
    const host = place();
    pending[slot] = { at: now, host };
    starts.push(startAction(plan, slot, host));
    // A cursor, not lost.shift(): shifting n times is quadratic.
    const blame = lost[blamed++];
    events.push(
      blame
        ? {
            kind: 'replaced',
            at: now,
            slot: blame.slot,
            instanceId: blame.id,
            replacement: slot,
            cause: causeFromDetail(blame.detail),
            detail: blame.detail,
          }
        : {
            kind: 'started',
            at: now,
            slot,
            detail: `${good.length} of ${plan.replicas} replicas running`,
          },
    );
  }

  lost.splice(0, blamed);

  // In the order the runtime listed them, whatever the verdict: the status reads as a table.
  const order = new Map(present.map((o, n) => [o.id, n]));
  judged.sort((a, b) => (order.get(a.instance.id) ?? 0) - (order.get(b.instance.id) ?? 0));

  // Blame kept only while successors are still owed: a later, unrelated start must not inherit it.
  if (wanted - newStarts <= 0) lost.length = 0;
  const drift = driftOf(plan, judged);
  const actions: Action[] = [
    ...stops,
    ...(route.length > 0 ? [{ kind: 'route', instanceIds: route } as const] : []),
    ...(unroute.length > 0
      ? [{ kind: 'unroute', instanceIds: [...new Set(unroute)] } as const]
      : []),
    ...starts,
  ];

  if (!plan.selfHeal) {
    // Seen, not repaired: nothing is remembered as leaving or pending, drift is told once.
    const text = drift.join('; ');
    const keep: Record<string, Remembered> = {};
    for (const [id, r] of Object.entries(remembered)) keep[id] = { ...r, leaving: null };
    return {
      state: {
        ...EMPTY_HEAL_STATE,
        instances: keep,
        nextSlot: state.nextSlot,
        drift: text === '' ? null : text,
      },
      actions: [],
      events: text !== '' && text !== state.drift ? [{ kind: 'drift', at: now, detail: text }] : [],
      judged,
      pendingStarts: 0,
      drift,
      backoffUntil: null,
    };
  }
  return {
    state: { instances: remembered, pending, lost, nextSlot, recentStarts, drift: null },
    actions,
    events,
    judged,
    pendingStarts: Object.keys(pending).length,
    drift,
    backoffUntil,
  };
}

/** Found running without a tally (a new owner, or a restart): routed means it passed its checks. */
function adoptedTally(o: HealInstance): HealthTally {
  // Restarts from before we met it are not held against it.
  return freshTally(o.restartCount, o.routed && o.state === 'running' ? 'healthy' : 'starting');
}

function usefulness({ o, r }: { o: HealInstance; r: Remembered }): number {
  return (r.health.status === 'healthy' ? 2 : 0) + (o.routed ? 1 : 0);
}

function slotOrder(a: string, b: string): number {
  return a.length - b.length || a.localeCompare(b);
}

function stop(o: HealInstance, reason: 'unhealthy' | 'surplus'): Action {
  return { kind: 'stop', instanceId: o.id, slot: o.slot, reason };
}

function startAction(plan: HealPlan, slot: string, host: string): Action {
  const { sha, image } = plan.revision;
  const release = instanceRelease(plan.revision);
  return {
    kind: 'start',
    slot,
    revision: sha,
    image,
    host,
    ...(release === undefined ? {} : { release }),
    ...(plan.process === undefined || plan.process === 'web' ? {} : { process: plan.process }),
  };
}

function causeOf(t: HealthTally): ReplaceCause {
  return t.cause === 'exited' ? 'exited' : t.cause === 'crash-loop' ? 'crash-loop' : 'unhealthy';
}

function describeCause(cause: ReplaceCause, detail: string): string {
  return cause === 'unhealthy' ? `unhealthy: ${detail}` : detail;
}

function causeFromDetail(detail: string): ReplaceCause {
  if (detail === 'removed') return 'removed';
  if (detail.startsWith('exited')) return 'exited';
  if (detail.startsWith('restarted')) return 'crash-loop';
  return 'unhealthy';
}

function stateDetail(o: HealInstance): string {
  return o.state === 'running' ? 'waiting for its health checks' : o.state;
}

/** The n of a slot named `<rolloutId>-<n>`, or -1. */
function slotIndex(rolloutId: string, slot: string): number {
  const prefix = `${rolloutId}-`;
  if (!slot.startsWith(prefix)) return -1;
  const rest = slot.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : -1;
}

/** What differs from the record, in words, e.g. "2 of 4 replicas healthy; stray r-x-1". */
function driftOf(plan: HealPlan, judged: readonly Judged[]): string[] {
  const out: string[] = [];
  const healthy = judged.filter((j) => j.verdict === 'healthy');
  if (healthy.length < plan.replicas)
    out.push(`${healthy.length} of ${plan.replicas} replicas healthy`);
  for (const j of judged) {
    if (j.verdict === 'unhealthy') out.push(`${j.instance.slot} ${j.detail ?? 'unhealthy'}`);
    if (j.verdict === 'stray') out.push(`stray ${j.instance.slot}: ${j.detail ?? ''}`);
    if (j.verdict === 'surplus') out.push(`surplus ${j.instance.slot}`);
  }
  const unrouted = plan.routed === false ? [] : healthy.filter((j) => !j.instance.routed);
  if (unrouted.length > 0)
    out.push(`not routed: ${unrouted.map((j) => j.instance.slot).join(', ')}`);
  return out;
}
