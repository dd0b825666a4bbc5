/**
 * What the reconciler did or saw between rollouts, for the one event stream (as `env` events with
 * kind `self-heal`, `drift`, `orphaned` or `pruned`) and the environment's timeline. Emitted only
 * on transitions: a repair once when decided, drift once when first seen.
 */

/** Why an instance is being replaced. */
export type ReplaceCause = 'exited' | 'removed' | 'unhealthy' | 'crash-loop';

export type HealEvent =
  /** A lost, exited or unhealthy instance gets a successor (`replacement` is the new slot). */
  | {
      readonly kind: 'replaced';
      readonly at: number;
      readonly slot: string;
      readonly instanceId: string | null;
      readonly replacement: string;
      readonly cause: ReplaceCause;
      readonly detail: string;
    }
  /** Too few instances for the replica count with nothing to blame: started afresh. */
  | {
      readonly kind: 'started';
      readonly at: number;
      readonly slot: string;
      readonly detail: string;
    }
  /** Taken out of the edge because it failed its checks (it is then stopped). */
  | {
      readonly kind: 'unrouted';
      readonly at: number;
      readonly slot: string;
      readonly instanceId: string;
      readonly detail: string;
    }
  /** Healthy instances of the recorded revision the edge did not send traffic to, routed again. */
  | { readonly kind: 'routed'; readonly at: number; readonly slots: readonly string[] }
  /** Edge upstreams no instance answers to any more, dropped. */
  | {
      readonly kind: 'upstreams-dropped';
      readonly at: number;
      readonly upstreams: readonly string[];
    }
  /** The edge had lost the environment's route (a restarted edge without its config): put back. */
  | { readonly kind: 'route-restored'; readonly at: number; readonly routeId: string }
  /** A gantry-labelled instance of no current or in-flight rollout, removed after the grace period. */
  | {
      readonly kind: 'stray-removed';
      readonly at: number;
      readonly slot: string;
      readonly instanceId: string;
      readonly detail: string;
    }
  /** More instances of the recorded revision than its replica count: the extra ones removed. */
  | {
      readonly kind: 'surplus-removed';
      readonly at: number;
      readonly slot: string;
      readonly instanceId: string;
    }
  /** Self-heal is off: the difference is shown, nothing is repaired. */
  | { readonly kind: 'drift'; readonly at: number; readonly detail: string }
  /** The app or environment left the config or the repo; its instances and route stay until pruned. */
  | { readonly kind: 'orphaned'; readonly at: number; readonly why: string }
  /** An orphaned environment removed by an explicit prune. */
  | {
      readonly kind: 'pruned';
      readonly at: number;
      readonly by: string;
      readonly instances: number;
      readonly route: string | null;
    };

/** The timeline kind an event is filed under: repairs, drift seen but not repaired, the rest. */
export function healEventKind(e: HealEvent): 'self-heal' | 'drift' | 'orphaned' | 'pruned' {
  switch (e.kind) {
    case 'drift':
      return 'drift';
    case 'orphaned':
      return 'orphaned';
    case 'pruned':
      return 'pruned';
    default:
      return 'self-heal';
  }
}

/** One line for the timeline, SSE, CLI and notifications, e.g. "self-heal: replaced r-…-2, exited 137". */
export function healEventText(e: HealEvent): string {
  switch (e.kind) {
    case 'replaced':
      return `self-heal: replaced ${e.slot} with ${e.replacement}, ${e.detail}`;
    case 'started':
      return `self-heal: started ${e.slot}: ${e.detail}`;
    case 'unrouted':
      return `self-heal: unrouted ${e.slot}: ${e.detail}`;
    case 'routed':
      return `self-heal: routed ${e.slots.join(', ')}`;
    case 'upstreams-dropped':
      return `self-heal: dropped upstreams ${e.upstreams.join(', ')} (no instance answers there)`;
    case 'route-restored':
      return `self-heal: restored edge route ${e.routeId}`;
    case 'stray-removed':
      return `self-heal: removed stray ${e.slot}: ${e.detail}`;
    case 'surplus-removed':
      return `self-heal: removed surplus ${e.slot}`;
    case 'drift':
      return `drift (self-heal off): ${e.detail}`;
    case 'orphaned':
      return `orphaned: ${e.why}`;
    case 'pruned':
      return `pruned by ${e.by}: ${e.instances} instance(s)${e.route ? `, route ${e.route}` : ''}`;
  }
}
