/**
 * What the core asks the executor to do. Every action is safe to repeat: starts are keyed by slot,
 * routes and unroutes are set operations, stops of what is gone are no-ops. The executor applies a
 * decision's actions in the order given and stops at the first failure.
 */
import { assertNever } from './assert-never.js';
import type { Failure, Outcome, StopReason } from './state.js';

export type Action =
  /** Start an instance unless one with this slot exists. */
  | {
      readonly kind: 'start';
      readonly slot: string;
      readonly revision: string;
      readonly image: string;
      readonly host: string;
      /** The release the instance is started for (labelled on it); absent before releases. */
      readonly release?: number | undefined;
      /** Its process type; absent: `web`. */
      readonly process?: string | undefined;
    }
  /** Send traffic to these instances too (all healthy by the tally). */
  | { readonly kind: 'route'; readonly instanceIds: readonly string[] }
  /** Stop sending traffic to these instances; they keep running to drain. */
  | { readonly kind: 'unroute'; readonly instanceIds: readonly string[] }
  /** Stop and remove an instance that was unrouted and drained (or never routed). */
  | {
      readonly kind: 'stop';
      readonly instanceId: string;
      readonly slot: string;
      readonly reason: StopReason;
    }
  /** The rollout is over: record the outcome. */
  | {
      readonly kind: 'finish';
      readonly outcome: Outcome;
      readonly restored: boolean;
      readonly failure: Failure | null;
    };

/**
 * Puts a decision's actions in the one safe order, merging routes and unroutes:
 * stops first (they only touch instances already unrouted and drained, and free capacity before
 * starts use it); routes before unroutes (so traffic always has somewhere healthy to go, even if the
 * executor dies between the two); starts last; finish at the very end.
 */
export function orderActions(actions: readonly Action[]): Action[] {
  const stops: Action[] = [];
  const stopped = new Set<string>();
  const starts: Action[] = [];
  const finishes: Action[] = [];
  // Sets keep insertion order: the first mention of an id places it, as a list would, but a
  // lookup per id instead of a scan keeps merging n ids linear.
  const route = new Set<string>();
  const unroute = new Set<string>();
  for (const a of actions) {
    switch (a.kind) {
      case 'stop':
        if (!stopped.has(a.instanceId)) {
          stopped.add(a.instanceId);
          stops.push(a);
        }
        break;
      case 'start':
        starts.push(a);
        break;
      case 'finish':
        finishes.push(a);
        break;
      case 'route':
        for (const id of a.instanceIds) route.add(id);
        break;
      case 'unroute':
        for (const id of a.instanceIds) unroute.add(id);
        break;
      default:
        assertNever(a);
    }
  }
  return [
    ...stops,
    ...(route.size > 0 ? [{ kind: 'route', instanceIds: [...route] } as const] : []),
    ...(unroute.size > 0 ? [{ kind: 'unroute', instanceIds: [...unroute] } as const] : []),
    ...starts,
    ...finishes,
  ];
}

/** One line for logs and CLI progress. */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'start':
      return `start ${a.slot}${a.process === undefined ? '' : ` ${a.process}`} (${a.revision.slice(0, 12)}) on ${a.host}`;
    case 'route':
      return `route ${a.instanceIds.join(', ')}`;
    case 'unroute':
      return `unroute ${a.instanceIds.join(', ')}`;
    case 'stop':
      return `stop ${a.slot} (${a.reason})`;
    case 'finish':
      return `finish: ${a.outcome}`;
    default:
      return assertNever(a);
  }
}
