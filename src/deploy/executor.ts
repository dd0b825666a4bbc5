/**
 * The one executor of the core's actions, shared by the rollout loop and the reconciler: start,
 * route, unroute, stop. Every action is safe to repeat (starts are keyed by slot, routes are set
 * operations, stopping what is gone is a no-op), and a fence is checked before each write so a
 * process that lost the environment's lease stops acting at once.
 */
import type { Logger } from 'pino';
import type { Edge, RouteId } from '../edge/edge.js';
import { assertNever, describeAction, type Action } from '../rollout/index.js';
import type { Instance, InstanceSpec, Runtime } from '../runtime/runtime.js';
import { upstreamOf } from './observe.js';

/** The actions the executor applies; `finish` belongs to whoever runs the rollout. */
export type ExecutableAction = Exclude<Action, { kind: 'finish' }>;
export type StartAction = Extract<Action, { kind: 'start' }>;
export type StopAction = Extract<Action, { kind: 'stop' }>;

export interface ExecutorContext {
  readonly runtime: Runtime;
  readonly edge: Edge;
  readonly log: Logger;
  readonly routeId: RouteId;
  /** How long a stop waits for the instance's in-flight requests (the edge's drain). */
  readonly drainMs: number;
  /**
   * How long the edge must see nothing in flight before it believes a drain: absent, its own
   * margin for requests caught in the switch; 0 when a decision kept the instance out of the edge
   * a while before asking to stop it (the rollout core's drainMs), so that margin has passed.
   */
  readonly drainQuietMs?: number;
  /** Throws when this process may no longer act for the environment. */
  readonly check?: () => void;
  /** What to run for a start action (labels, image, env, secrets). */
  startSpec(action: StartAction): InstanceSpec;
  /** For log lines: who acts (`rollout` id or `reconcile`). */
  readonly actor: Record<string, string>;
}

const STOP_TIMEOUT_SECONDS = 10;

export class ActionExecutor {
  private instances: readonly Instance[] = [];

  constructor(private readonly ctx: ExecutorContext) {}

  /** The instances as last observed: actions name instances by id. */
  observed(instances: readonly Instance[]): void {
    this.instances = instances;
  }

  async apply(action: ExecutableAction): Promise<void> {
    const { ctx } = this;
    ctx.log.debug({ ...ctx.actor, action: describeAction(action) }, 'action');
    switch (action.kind) {
      case 'start':
        await this.start(action);
        return;
      case 'route':
        return this.reroute(action.instanceIds, []);
      case 'unroute':
        return this.reroute([], action.instanceIds);
      case 'stop': {
        const instance = this.instances.find((i) => i.id === action.instanceId);
        if (!instance) return;
        const upstream = upstreamOf(instance);
        // Drain before stop: requests still running on it would be reset by SIGTERM.
        if (upstream) {
          await ctx.edge.drain(ctx.routeId, upstream, {
            timeoutMs: ctx.drainMs,
            quietMs: ctx.drainQuietMs,
          });
        }
        // The drain took a while: whoever holds the lease now may count on this instance.
        ctx.check?.();
        await ctx.runtime.stop(instance, { timeoutSeconds: STOP_TIMEOUT_SECONDS });
        await ctx.runtime.remove(instance);
        return;
      }
      default:
        return assertNever(action);
    }
  }

  /** Starts (or finds) the instance of a start action; the runtime's word on it, probe-ready. */
  start(action: StartAction): Promise<Instance> {
    return this.ctx.runtime.start(this.ctx.startSpec(action));
  }

  /**
   * Adds the upstreams of `add` to the route and takes those of `remove` out, in one write: a
   * decision's route and unroute land together (one edge reload instead of two, and no moment
   * where either half is missing).
   */
  async reroute(add: readonly string[], remove: readonly string[]): Promise<void> {
    const { ctx } = this;
    const current = await ctx.edge.upstreams(ctx.routeId);
    const leaving = new Set(this.upstreamsOf(remove));
    const next = [...new Set([...current, ...this.upstreamsOf(add)])].filter(
      (u) => !leaving.has(u),
    );
    // Between reading the route and writing it back: a stale write would undo the holder's.
    ctx.check?.();
    await ctx.edge.setUpstreams(ctx.routeId, next);
  }

  /**
   * Drops upstreams that no instance of this environment answers to any more: what a process
   * that died or stalled while changing the route leaves behind, what a crashed or removed
   * instance leaves, or an old port after the engine restarted an instance on a new one. Only
   * the lease holder writes the route, so it puts the route back in line with the runtime.
   */
  async dropStrayUpstreams(
    upstreams: readonly string[],
  ): Promise<{ kept: string[]; dropped: string[] }> {
    const answering = new Set(this.instances.map(upstreamOf));
    const dropped = upstreams.filter((u) => !answering.has(u));
    const kept = upstreams.filter((u) => answering.has(u));
    if (dropped.length === 0) return { kept, dropped };
    this.ctx.check?.();
    await this.ctx.edge.setUpstreams(this.ctx.routeId, kept);
    this.ctx.log.warn(
      { ...this.ctx.actor, route: this.ctx.routeId, strays: dropped },
      'dropped upstreams no instance answers to',
    );
    return { kept, dropped };
  }

  private upstreamsOf(ids: readonly string[]): string[] {
    return this.instances
      .filter((i) => ids.includes(i.id))
      .map(upstreamOf)
      .filter((u): u is string => u !== undefined);
  }
}
