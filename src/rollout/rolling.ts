/**
 * One rolling step toward the direction's target revision: the new one going forward, the old one
 * going back (a rollback is a rolling update in reverse, under the same surge rules). Each process
 * type rolls on its own under the same rules; two invariants hold per process type after every
 * action, whatever order the world answers in:
 *   - at most replicas + maxSurge instances exist, counting ones asked for, plus at most maxSurge
 *     terminating ones (unrouted, draining or stopping) whose removal overlaps the next start;
 *   - at least replicas − maxUnavailable healthy instances serve (when that many served before),
 *     because an instance leaves (the edge, for the routed process) only if the rest still meet
 *     that floor.
 * Leaving is unroute → drain → stop: stopping a routed instance would reset requests in flight.
 * Unrouted processes (workers) have nothing in flight at the edge: they are stopped at once, with
 * the engine's stop timeout for their own graceful end.
 */
import type { Action } from './actions.js';
import { WEB } from '../config/processes.js';
import { byProcess, isActiveTarget, isUp } from './fleet.js';
import { freshTally } from './health.js';
import {
  instanceRelease,
  placer,
  slotName,
  type ProcessPlan,
  type Revision,
  type RolloutPlan,
} from './plan.js';
import {
  desiredOf,
  directionOf,
  type Direction,
  type Retirement,
  type Role,
  type RolloutState,
  type StopReason,
  type TrackedInstance,
} from './state.js';
import { only, type Stepped } from './step.js';

type Draft = { -readonly [K in keyof TrackedInstance]: TrackedInstance[K] };

/** Starts, routes, retires, drains and stops what this step allows; nothing at all while paused. */
export function roll(plan: RolloutPlan, state: RolloutState, now: number): Stepped {
  if (state.finished !== null || state.pausedAt !== null) return only(state);
  const dir = directionOf(plan, state);
  const fleet: Draft[] = state.instances.map((i) => ({ ...i }));
  const routing = new Set<Draft>();
  let nextSlot = state.nextSlot;
  for (const { process, instances: group } of byProcess(plan, fleet).values()) {
    const pdir: Direction = { ...dir, desired: desiredOf(dir, process) };
    settle(group, pdir, process, now);
    routeReady(group, pdir, process, routing);
    const started = startTargets(plan, process, group, pdir, nextSlot, now);
    const withStarted = [...group, ...started.requested];
    retireServing(plan, withStarted, pdir, process, routing, started.blocked, now);
    // What retireServing just retired is out of the edge before this decision's starts are
    // applied (unroutes come first), so its room serves now rather than one observation later.
    const more = startTargets(plan, process, withStarted, pdir, started.nextSlot, now);
    fleet.push(...started.requested, ...more.requested);
    nextSlot = more.nextSlot;
  }
  const { unroutes, stops, kept } = drainAndStop(plan, fleet, now);
  // Start requests not yet seen in the runtime are asked for again: starts are idempotent by
  // slot, and after a crash between persisting and acting this is how they get made at all.
  const starts = kept.flatMap((i): Action[] =>
    i.id === null && i.retire === null && i.request !== null
      ? [
          {
            kind: 'start',
            slot: i.slot,
            revision: i.revision,
            image: i.request.image,
            host: i.host,
            ...(typeof i.release === 'number' ? { release: i.release } : {}),
            ...(i.process === undefined ? {} : { process: i.process }),
          },
        ]
      : [],
  );
  const routeIds = [...routing].flatMap((i) => (i.id === null ? [] : [i.id]));
  const actions: Action[] = [
    ...stops,
    ...(routeIds.length > 0 ? [{ kind: 'route', instanceIds: routeIds } as const] : []),
    ...(unroutes.length > 0 ? [{ kind: 'unroute', instanceIds: unroutes } as const] : []),
    ...starts,
  ];
  return { state: { ...state, instances: kept, nextSlot }, events: [], actions };
}

/**
 * Decides what leaves without costing availability: unhealthy instances, instances of another
 * revision that serve nothing, and surplus targets. Going back, old instances still draining
 * are taken back instead of being replaced.
 */
function settle(fleet: Draft[], dir: Direction, process: ProcessPlan, now: number): void {
  for (const i of fleet) {
    if (i.retire !== null) continue;
    if (i.health.status === 'unhealthy') i.retire = retirement('unhealthy', now);
    else if (i.role !== dir.target && !((i.routed || !process.routed) && isUp(i)))
      i.retire = retirement(dir.reason, now);
  }
  let short = dir.desired - fleet.filter((i) => isActiveTarget(i, dir)).length;
  for (const i of fleet) {
    if (short <= 0) break;
    const reclaimable =
      i.role === dir.target && i.retire !== null && i.retire.stopAt === null && isUp(i);
    if (!reclaimable) continue;
    i.retire = null;
    short -= 1;
  }
  // More targets than wanted (adopted leftovers): retire the least useful, newest first.
  const targets = fleet.filter((i) => isActiveTarget(i, dir));
  const surplus = targets.length - dir.desired;
  if (surplus > 0) {
    const rank = (i: Draft): number => (i.id === null ? 0 : !isUp(i) ? 1 : !i.routed ? 2 : 3);
    const order = targets
      .map((i, n) => ({ i, n }))
      .sort((a, b) => rank(a.i) - rank(b.i) || b.n - a.n);
    for (const { i } of order.slice(0, surplus)) i.retire = retirement('surplus', now);
  }
}

/**
 * Healthy target instances of the routed process not yet in the edge: route them (only healthy
 * instances are ever routed). Added to `routing`.
 */
function routeReady(
  fleet: Draft[],
  dir: Direction,
  process: ProcessPlan,
  routing: Set<Draft>,
): void {
  if (!process.routed) return;
  for (const i of fleet) {
    if (isActiveTarget(i, dir) && isUp(i) && !i.routed && i.id !== null) {
      routing.add(i);
      i.everRouted = true;
    }
  }
}

/**
 * Asks for as many target instances as are missing, within replicas + maxSurge. Everything that
 * exists or was asked for counts, except terminating instances (retiring, so out of the edge by
 * the time starts are applied): like Kubernetes, which does not count terminating pods against
 * maxSurge, so that the drain and removal of an old instance overlap the start of the next new
 * one. Unlike Kubernetes, at most maxSurge of them are let off: at most replicas + 2 × maxSurge
 * instances ever exist, and maxSurge 0 (no room for one more) still means replicas at most.
 * A first deploy has nothing to replace: maxSurge bounds how many boot at once instead.
 * `blocked` is how many could not start for lack of room.
 */
function startTargets(
  plan: RolloutPlan,
  process: ProcessPlan,
  fleet: readonly Draft[],
  dir: Direction,
  firstSlot: number,
  now: number,
): { blocked: number; nextSlot: number; requested: Draft[] } {
  const targets = fleet.filter((i) => isActiveTarget(i, dir));
  const missing = Math.max(0, dir.desired - targets.length);
  const booting = targets.filter((i) => i.health.status !== 'healthy').length;
  const parallel = plan.from === null ? Math.max(1, plan.maxSurge) - booting : Infinity;
  const wanted = Math.min(missing, Math.max(0, parallel));
  // Never-started instances on their way out vanish this step without ever having existed.
  const present = fleet.filter((i) => !(i.retire !== null && i.id === null)).length;
  const terminating = fleet.filter((i) => i.retire !== null && i.id !== null).length;
  const counted = present - Math.min(terminating, plan.maxSurge);
  const room = Math.max(0, process.replicas + plan.maxSurge - counted);
  const revision = dir.revision;
  if (revision === null) return { blocked: 0, nextSlot: firstSlot, requested: [] };
  const count = Math.min(wanted, room);
  let nextSlot = firstSlot;
  const place = placer(
    plan.hosts,
    targets.map((i) => i.host),
  );
  const out: Draft[] = [];
  for (let n = 0; n < count; n += 1) {
    const host = place();
    const slot = slotName(plan, nextSlot);
    out.push(requested(slot, dir.target, revision, process.name, host, now));
    nextSlot += 1;
  }
  return { blocked: wanted - count, nextSlot, requested: out };
}

/**
 * Takes serving instances of other revisions out of the edge: those the targets already cover,
 * and those whose room a blocked start needs, but never below replicas − maxUnavailable.
 */
function retireServing(
  plan: RolloutPlan,
  fleet: readonly Draft[],
  dir: Direction,
  process: ProcessPlan,
  routing: ReadonlySet<Draft>,
  blocked: number,
  now: number,
): void {
  const serving = fleet.filter(
    (i) => i.retire === null && (i.routed || routing.has(i) || !process.routed) && isUp(i),
  );
  const others = serving.filter((i) => i.role !== dir.target);
  const leaving = fleet.filter((i) => i.retire !== null && i.id !== null).length;
  const covered = serving.length - dir.desired;
  const needRoom = Math.max(0, blocked - leaving);
  const floor = Math.max(0, dir.desired - plan.maxUnavailable);
  const allowed = serving.length - floor;
  const count = Math.min(Math.max(covered, needRoom), allowed, others.length);
  for (const i of others.slice(0, Math.max(0, count))) i.retire = retirement(dir.reason, now);
}

/**
 * Moves every retiring instance one stage on: unroute while routed; once seen unrouted, drain for
 * drainMs (counted from that sighting, so a crash between deciding and unrouting cannot shorten
 * it); then stop. An instance never routed has nothing in flight and stops at once.
 */
function drainAndStop(
  plan: RolloutPlan,
  fleet: Draft[],
  now: number,
): { unroutes: string[]; stops: Action[]; kept: TrackedInstance[] } {
  const unroutes: string[] = [];
  const stops: Action[] = [];
  const kept: TrackedInstance[] = [];
  for (const i of fleet) {
    const r = i.retire;
    if (r === null || i.id === null) {
      // Retiring before it ever existed: forget it (if the start lands after all, it is adopted).
      if (r === null) kept.push(i);
      continue;
    }
    if (i.routed) {
      unroutes.push(i.id);
      i.retire = { ...r, drainFrom: null };
    } else {
      const drainFrom = r.drainFrom ?? now;
      const drained = !i.everRouted || now - drainFrom >= plan.drainMs;
      i.retire = { ...r, drainFrom, stopAt: drained ? (r.stopAt ?? now) : r.stopAt };
      if (drained) stops.push({ kind: 'stop', instanceId: i.id, slot: i.slot, reason: r.reason });
    }
    kept.push(i);
  }
  return { unroutes, stops, kept };
}

function retirement(reason: StopReason, now: number): Retirement {
  return { reason, since: now, drainFrom: null, stopAt: null };
}

function requested(
  slot: string,
  role: Role,
  revision: Revision,
  process: string,
  host: string,
  now: number,
): Draft {
  const release = instanceRelease(revision);
  return {
    slot,
    role,
    revision: revision.sha,
    ...(release === undefined ? {} : { release }),
    // Absent for `web`, as on instances tracked before process types.
    ...(process === WEB ? {} : { process }),
    host,
    request: { image: revision.image, at: now },
    id: null,
    seenAt: null,
    runtime: 'absent',
    exitCode: null,
    routed: false,
    everRouted: false,
    health: freshTally(0),
    retire: null,
  };
}
