/**
 * The reconciler: every environment with a current release is visited on controller start, on
 * runtime events (the Docker events stream, Kubernetes watches), when a probe may have changed a
 * verdict, after edge failures, and on a periodic resync — each pass by the one controller that
 * owns the environment (a lease), and only while no rollout holds it. See env-reconciler.ts.
 */
import type { RuntimeChange } from '../runtime/runtime.js';
import { EnvReconciler, type EnvReconcilerDeps } from './env-reconciler.js';

export interface ReconcilerOptions {
  /** Full resync of every environment this often. */
  readonly intervalMs: number;
}

/** How soon a wake-up runs the pass: several events in a burst make one pass. */
const DEBOUNCE_MS = 100;
/** How often environments owned by nobody (a dead controller's) are claimed. */
const CLAIM_MS = 5_000;

interface Slot {
  readonly env: EnvReconciler;
  timer: NodeJS.Timeout | undefined;
  /** When the scheduled pass runs (ms), to keep the earliest of two requests. */
  due: number;
  running: Promise<void> | undefined;
  /** Asked for while running: run again right after. */
  again: boolean;
}

export class Reconciler {
  private readonly slots = new Map<string, Slot>();
  private timers: NodeJS.Timeout[] = [];
  private stopWatch: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly deps: EnvReconcilerDeps,
    private readonly opts: ReconcilerOptions,
  ) {}

  /** Visits every environment now, then keeps them held. */
  async start(): Promise<void> {
    // Every target's engine reports its own instances; a change anywhere wakes its environment.
    const runtimes = new Set([
      this.deps.runtime,
      ...(this.deps.targets?.all() ?? []).map((t) => t.runtime),
    ]);
    const stops = [...runtimes].map((r) => r.watch?.((c) => this.onChange(c)));
    this.stopWatch = () => stops.forEach((stop) => stop?.());
    this.timers.push(setInterval(() => void this.resync(), this.opts.intervalMs));
    this.timers.push(setInterval(() => void this.claimOrphans(), CLAIM_MS));
    for (const t of this.timers) t.unref();
    await this.resync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWatch?.();
    for (const t of this.timers) clearInterval(t);
    const slots = [...this.slots.values()];
    for (const s of slots) clearTimeout(s.timer);
    await Promise.all(slots.map((s) => s.running));
    await Promise.all(slots.map((s) => s.env.close()));
    this.slots.clear();
  }

  /** Asks for a pass of one environment soon (after a rollout ended, a prune, a config change). */
  poke(app: string, env: string, delayMs = DEBOUNCE_MS): void {
    this.schedule(this.slot(app, env), delayMs);
  }

  /** The environments known now get a pass; new ones get a reconciler. */
  async resync(): Promise<void> {
    if (this.stopped) return;
    const envs = await this.deps.rollouts.deployedEnvs().catch(() => []);
    const keep = new Set(envs.map(({ app, env }) => key(app, env)));
    for (const [k, s] of this.slots) {
      // Pruned or forgotten: nothing to hold any more.
      if (!keep.has(k)) {
        clearTimeout(s.timer);
        this.slots.delete(k);
        void s.env.close();
      }
    }
    // Spread the passes over a second, so a hundred environments do not hit the engine at once.
    const spread = Math.min(1000, this.opts.intervalMs / 2) / Math.max(1, envs.length);
    envs.forEach(({ app, env }, n) => this.schedule(this.slot(app, env), DEBOUNCE_MS + n * spread));
  }

  private onChange(c: RuntimeChange): void {
    if (c.all) {
      void this.resync();
      return;
    }
    const s = this.slots.get(key(c.app, c.env));
    if (s) this.schedule(s, DEBOUNCE_MS);
  }

  /**
   * Environments whose owner died: claimed sooner than the next resync. Held ones are visited
   * too: a pass is the safety net for a change whose event was missed.
   */
  private async claimOrphans(): Promise<void> {
    for (const s of this.slots.values()) {
      if (!s.running && !s.timer) this.schedule(s, DEBOUNCE_MS);
    }
  }

  private slot(app: string, env: string): Slot {
    const k = key(app, env);
    let s = this.slots.get(k);
    if (!s) {
      const created: Slot = {
        env: new EnvReconciler(this.deps, app, env, () => this.schedule(created, DEBOUNCE_MS)),
        timer: undefined,
        due: Infinity,
        running: undefined,
        again: false,
      };
      s = created;
      this.slots.set(k, s);
    }
    return s;
  }

  private schedule(s: Slot, delayMs: number): void {
    if (this.stopped) return;
    if (s.running) {
      s.again = true;
      return;
    }
    const due = Date.now() + delayMs;
    if (s.timer && s.due <= due) return;
    clearTimeout(s.timer);
    s.due = due;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.due = Infinity;
      s.running = this.run(s);
    }, delayMs);
    s.timer.unref();
  }

  private async run(s: Slot): Promise<void> {
    const result = await s.env.pass();
    s.running = undefined;
    if (this.stopped) return;
    if (s.again) {
      s.again = false;
      this.schedule(s, DEBOUNCE_MS);
    } else if (result.again !== null) {
      this.schedule(s, result.again);
    }
  }
}

function key(app: string, env: string): string {
  return `${app}\n${env}`;
}
