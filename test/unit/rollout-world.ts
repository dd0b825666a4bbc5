/**
 * A tiny, pure, deterministic fake world for driving the rollout core end to end: it applies
 * actions (start → an instance appears and boots per a script; route/unroute flip the edge; stop
 * removes), advances time in probe intervals, reports observations, and checks the rollout
 * invariants after every single action. Test helper, not a test file.
 */
import type {
  Action,
  HealthRules,
  Observed,
  Probe,
  RolloutPlan,
  RuntimeState,
} from '../../src/rollout/index.js';

/** How an instance behaves once started. */
export type Script =
  /** Probes pass from bootMs after start. */
  | { readonly kind: 'healthy'; readonly bootMs: number }
  /** Probes never pass. */
  | { readonly kind: 'never' }
  /** The process exits afterMs after start. */
  | { readonly kind: 'crash'; readonly afterMs: number; readonly exitCode: number }
  /** The engine restarts it every everyMs; probes fail. */
  | { readonly kind: 'crash-loop'; readonly everyMs: number }
  /** Healthy from bootMs, failing from failAfterMs (both after start). */
  | { readonly kind: 'late'; readonly bootMs: number; readonly failAfterMs: number };

export type FinishAction = Extract<Action, { kind: 'finish' }>;

export interface WorldInstance {
  readonly id: string;
  readonly slot: string;
  readonly revision: string;
  readonly host: string;
  readonly startedAt: number;
  readonly script: Script;
  state: RuntimeState;
  restartCount: number;
  exitCode: number | null;
  routed: boolean;
  everRouted: boolean;
  unroutedAt: number | null;
  probes: Probe[];
}

export interface WorldOptions {
  readonly plan: RolloutPlan;
  readonly now?: number;
  /** Instances of the old revision serving at the start (default: replicas, none for a first deploy). */
  readonly oldInstances?: number;
  /** The n-th instance started of each revision behaves so (default: healthy after one interval). */
  readonly script?: (role: 'to' | 'from', n: number) => Script;
  /** The edge's error rate for the new revision at a time. */
  readonly errorRate?: (now: number) => number;
}

export class World {
  now: number;
  readonly plan: RolloutPlan;
  readonly instances: WorldInstance[] = [];
  private readonly found: string[] = [];
  /** Every start, with what existed and what was routed just after it (for the surge check). */
  private readonly starts: {
    at: number;
    seq: number;
    ids: string[];
    routed: Set<string>;
    /** Served once, out of the edge now. */
    unrouted: Set<string>;
  }[] = [];
  /** Per instance id: the last action sequence number that routed it, and the one that stopped it. */
  private readonly routedSeq = new Map<string, number>();
  private readonly stoppedSeq = new Map<string, number>();
  private seq = 0;
  readonly finishes: FinishAction[] = [];
  readonly reusedSlots: string[] = [];
  /** Routed instances that went bad on their own: availability the rollout could not keep. */
  lostToFaults = 0;
  /** Whether the old revision served enough at the start for the availability floor to apply. */
  readonly floorApplies: boolean;
  private readonly slotsUsed = new Set<string>();
  private readonly started = { to: 0, from: 0 };
  private ids = 0;
  private readonly opts: WorldOptions;

  constructor(opts: WorldOptions) {
    this.opts = opts;
    this.plan = opts.plan;
    this.now = opts.now ?? 1_000_000;
    const from = opts.plan.from;
    const old = from === null ? 0 : (opts.oldInstances ?? opts.plan.replicas);
    for (let n = 0; n < old && from !== null; n += 1) {
      const host = opts.plan.hosts[n % opts.plan.hosts.length] ?? 'local';
      const i = this.create(`prev-${n}`, from.sha, host, { kind: 'healthy', bootMs: 0 });
      Object.assign(i, { routed: true, everRouted: true, startedAt: this.now - 3_600_000 });
      const interval = opts.plan.health.intervalMs;
      for (let k = opts.plan.health.healthyThreshold; k > 0; k -= 1)
        i.probes.push({ at: this.now - k * interval, ok: true, detail: '200' });
    }
    this.floorApplies = old >= this.floor();
  }

  floor(): number {
    return Math.max(0, this.plan.replicas - this.plan.maxUnavailable);
  }

  observe(): Observed {
    const routedNew = this.instances.some((i) => i.routed && i.revision === this.plan.to.sha);
    const rate = this.opts.errorRate;
    return {
      instances: this.instances.map((i) => ({
        id: i.id,
        slot: i.slot,
        revision: i.revision,
        host: i.host,
        state: i.state,
        restartCount: i.restartCount,
        exitCode: i.exitCode,
        startedAt: i.startedAt,
        routed: i.routed,
        // A window of recent results, as a prober's ring buffer would hand over.
        probes: i.probes.slice(-6),
      })),
      edge: rate !== undefined && routedNew ? { errorRate: rate(this.now), requests: 100 } : null,
    };
  }

  /** What broke an invariant, at every action and (for the surge) over the whole run. */
  get violations(): string[] {
    return [...this.found, ...this.surgeViolations()];
  }

  /** Applies one action the way an idempotent executor would, checking the invariants after it. */
  apply(a: Action): void {
    this.seq += 1;
    switch (a.kind) {
      case 'start': {
        if (this.instances.some((i) => i.slot === a.slot))
          this.violate(`start of slot ${a.slot}, which exists`);
        // A slot is never reused, unless a lost state made the core forget it had been used.
        else if (this.slotsUsed.has(a.slot)) this.reusedSlots.push(a.slot);
        const role = a.revision === this.plan.to.sha ? 'to' : 'from';
        const script = this.opts.script?.(role, this.started[role]) ?? healthyAfter(this.plan, 1);
        this.started[role] += 1;
        this.create(a.slot, a.revision, a.host, script);
        break;
      }
      case 'route':
        for (const id of a.instanceIds) {
          const i = this.find(id);
          if (i === undefined) this.violate(`route of unknown ${id}`);
          else if (!healthyByThresholds(i, this.plan.health))
            this.violate(`route of ${i.slot}, which is not healthy`);
          else {
            Object.assign(i, { routed: true, everRouted: true, unroutedAt: null });
            this.routedSeq.set(i.id, this.seq);
          }
        }
        break;
      case 'unroute':
        for (const id of a.instanceIds) {
          const i = this.find(id);
          if (i?.routed === true) Object.assign(i, { routed: false, unroutedAt: this.now });
        }
        break;
      case 'stop': {
        const i = this.find(a.instanceId);
        if (i === undefined) break;
        if (i.routed) this.violate(`stop of ${i.slot} while routed`);
        else if (i.everRouted && this.now - (i.unroutedAt ?? -Infinity) < this.plan.drainMs)
          this.violate(`stop of ${i.slot} before it drained`);
        this.instances.splice(this.instances.indexOf(i), 1);
        this.stoppedSeq.set(i.id, this.seq);
        break;
      }
      case 'finish':
        this.finishes.push(a);
        break;
    }
    this.checkInvariants(a.kind);
  }

  /** Lets time pass in probe intervals: scripts play out and every running instance is probed. */
  advance(ms: number): void {
    const step = this.plan.health.intervalMs;
    for (let t = 0; t < ms; t += step) {
      this.now += Math.min(step, ms - t);
      for (const i of this.instances) {
        const wasServing = i.routed && healthyByThresholds(i, this.plan.health);
        this.play(i);
        if (wasServing && !healthyByThresholds(i, this.plan.health)) this.lostToFaults += 1;
      }
    }
  }

  of(revision: string | undefined): WorldInstance[] {
    return this.instances.filter((i) => i.revision === revision);
  }

  private play(i: WorldInstance): void {
    const age = this.now - i.startedAt;
    const s = i.script;
    if (i.state !== 'running') return;
    if (s.kind === 'crash' && age >= s.afterMs) {
      Object.assign(i, { state: 'exited', exitCode: s.exitCode });
      return;
    }
    if (s.kind === 'crash-loop' && age >= s.everyMs * (i.restartCount + 1)) i.restartCount += 1;
    const ok =
      (s.kind === 'healthy' && age >= s.bootMs) ||
      (s.kind === 'late' && age >= s.bootMs && age < s.failAfterMs);
    i.probes.push({
      at: this.now,
      ok,
      detail: ok ? '200' : s.kind === 'crash-loop' ? 'connection refused' : '503',
    });
  }

  private create(slot: string, revision: string, host: string, script: Script): WorldInstance {
    this.slotsUsed.add(slot);
    this.ids += 1;
    const i: WorldInstance = {
      id: `c${this.ids}`,
      slot,
      revision,
      host,
      startedAt: this.now,
      script,
      state: 'running',
      restartCount: 0,
      exitCode: null,
      routed: false,
      everRouted: false,
      unroutedAt: null,
      probes: [],
    };
    this.instances.push(i);
    return i;
  }

  private find(id: string): WorldInstance | undefined {
    return this.instances.find((i) => i.id === id);
  }

  private checkInvariants(after: string): void {
    // The surge budget (replicas + maxSurge, terminating ones let off) is checked over the whole
    // run, once it is known which instances were on their way out (surgeViolations); at any
    // moment, at most maxSurge terminating ones come on top of it.
    const { maxSurge } = this.plan;
    const max = this.plan.replicas + maxSurge;
    if (after === 'start') {
      const idsOf = (f: (i: WorldInstance) => boolean) =>
        new Set(this.instances.filter(f).map((i) => i.id));
      const ids = this.instances.map((i) => i.id);
      const routed = idsOf((i) => i.routed);
      const unrouted = idsOf((i) => !i.routed && i.everRouted);
      this.starts.push({ at: this.now, seq: this.seq, ids, routed, unrouted });
    }
    if (this.instances.length > max + maxSurge)
      this.violate(
        `after ${after}: ${this.instances.length} instances exist, more than ${max + maxSurge}`,
      );
    const serving = this.instances.filter(
      (i) => i.routed && healthyByThresholds(i, this.plan.health),
    ).length;
    const floor = this.floor() - this.lostToFaults;
    if (this.floorApplies && this.finishes.length === 0 && serving < floor)
      this.violate(`after ${after}: ${serving} healthy instances serve, fewer than ${floor}`);
    const slots = new Set(this.instances.map((i) => i.slot));
    if (slots.size !== this.instances.length) this.violate('two instances share a slot');
  }

  private violate(what: string): void {
    this.found.push(`t=${this.now}: ${what}`);
  }

  /**
   * At every start, instances that count against replicas + maxSurge: all that existed, but at
   * most maxSurge terminating ones — out of the edge then, having served before (a rollback may
   * take one back later, instead of starting another), or stopped later without being routed in
   * between. Judged after the fact, because only the core knows at the time which ones it let go
   * (one adopted after a crash is drained though the world never routed it).
   */
  private surgeViolations(): string[] {
    const { replicas, maxSurge } = this.plan;
    const out: string[] = [];
    for (const s of this.starts) {
      const terminating = s.ids.filter((id) => {
        const stopped = this.stoppedSeq.get(id);
        const routed = this.routedSeq.get(id) ?? -1;
        if (s.routed.has(id)) return false;
        return s.unrouted.has(id) || (stopped !== undefined && routed < s.seq);
      }).length;
      const counted = s.ids.length - Math.min(terminating, maxSurge);
      if (counted > replicas + maxSurge)
        out.push(`t=${s.at}: at a start, ${counted} instances count against the surge`);
    }
    return out;
  }
}

/**
 * The world's own reading of health, written independently of the core's tally as an oracle:
 * thresholds over the full probe history; an exited or crash-looping process is never healthy.
 */
export function healthyByThresholds(i: WorldInstance, rules: HealthRules): boolean {
  if (i.state !== 'running' || i.restartCount >= rules.maxRestarts) return false;
  let healthy = false;
  let passes = 0;
  let fails = 0;
  for (const p of i.probes) {
    if (p.ok) {
      passes += 1;
      fails = 0;
      if (passes >= rules.healthyThreshold) healthy = true;
    } else {
      passes = 0;
      if (!healthy && p.at < i.startedAt + rules.startPeriodMs) continue;
      fails += 1;
      if (fails >= rules.unhealthyThreshold) healthy = false;
    }
  }
  return healthy;
}

export function healthyAfter(plan: RolloutPlan, intervals: number): Script {
  return { kind: 'healthy', bootMs: intervals * plan.health.intervalMs };
}
