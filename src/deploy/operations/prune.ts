/**
 * Prune: the explicit removal of an environment the reconciler marked orphaned (its app or
 * environment left the config or the repo). The reconciler only shows orphans; nothing is removed
 * until a person asks here.
 */
import { randomUUID } from 'node:crypto';
import type { Edge } from '../../edge/edge.js';
import { GantryError } from '../../errors.js';
import { Lease } from '../../queue/app-lock.js';
import { healEventKind, healEventText, type HealEvent } from '../../reconcile/events.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Targets } from '../targets.js';
import type { OpsDeps } from './context.js';

export type PruneDeps = OpsDeps & {
  runtime?: Runtime | undefined;
  edge?: Edge | undefined;
  /** With several targets, the environment's own runtime and edge are the ones pruned. */
  targets?: Targets | undefined;
};

export interface PruneResult {
  app: string;
  env: string;
  /** Instances stopped and removed. */
  instances: number;
  /** The edge route removed, if the environment had one. */
  route: string | null;
  /** True when the environment was not marked orphaned and `force` overrode that. */
  forced: boolean;
}

/** Long enough for a slow engine to stop a handful of instances; renewed while we work. */
const PRUNE_LEASE_MS = 60_000;
const STOP_TIMEOUT_SECONDS = 10;

/**
 * Removes every instance and the edge route of `env`, records a `pruned` line in its timeline,
 * then forgets the environment (state, status, lock, pin; the timeline stays). Refuses unless the
 * status says orphaned (`force` overrides, and the line says it was forced), and while a rollout
 * or a repair holds the environment's lease.
 */
export async function prune(
  deps: PruneDeps,
  req: { app: string; env: string; force?: boolean | undefined; actor: string },
  now = () => Date.now(),
): Promise<PruneResult> {
  const { rollouts, store } = deps;
  const { app, env } = req;
  const known = await store.getApp(app);
  const deployed = (await rollouts.deployedEnvs()).some((d) => d.app === app && d.env === env);
  if (!known && !deployed) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${app} is not known`);
  if (!deployed && !(known && env in known.environments)) {
    throw new GantryError('GANTRY_ERR_ENV_UNKNOWN', `app ${app} has no environment ${env}`);
  }
  const { runtime, edge } = deps;
  if (!runtime || !edge) {
    throw new GantryError(
      'GANTRY_ERR_DEPLOY_DISABLED',
      'this controller runs no deploys (deploy.enabled is false), so it cannot remove instances',
    );
  }

  const status = await rollouts.status(app, env);
  const forced = !status?.orphaned;
  if (forced && !req.force) {
    throw new GantryError(
      'GANTRY_ERR_NOT_ORPHANED',
      `${app}/${env} is not orphaned${status ? '' : ' (not reconciled yet)'}: it is still in the config; pass force to prune it anyway`,
      { details: { health: status?.health.status ?? 'unknown' } },
    );
  }

  // The rollout lease: no rollout or repair may start instances while they are being removed.
  const lease = await Lease.acquire(
    store.redis,
    store.keys.rolloutLease(app, env),
    `prune:${req.actor}:${randomUUID()}`,
    PRUNE_LEASE_MS,
  );
  if (!lease) {
    throw new GantryError(
      'GANTRY_ERR_ENV_BUSY',
      `${app}/${env} is busy (a rollout or a repair holds it); try again when it ends`,
    );
  }
  try {
    const state = await rollouts.env(app, env);
    const target = deps.targets?.ofState(state);
    const on = target ?? { runtime, edge };
    const routeId = state.route?.id ?? status?.route?.id ?? null;
    // Route first: clients get a clean "no route" rather than errors from instances going away.
    if (routeId) await on.edge.removeRoute(routeId);
    const found = await on.runtime.list({ app, env });
    for (const i of found) {
      lease.check();
      // Stop (SIGTERM, grace) before remove, so the process may finish what it was doing.
      await on.runtime.stop(i, { timeoutSeconds: STOP_TIMEOUT_SECONDS });
      await on.runtime.remove(i);
    }
    const event: HealEvent = {
      kind: 'pruned',
      at: now(),
      by: req.actor,
      instances: found.length,
      route: routeId,
    };
    const why = forced ? ' (forced: it was not orphaned)' : '';
    await rollouts.appendEnvEvents(app, env, [
      {
        at: event.at,
        kind: healEventKind(event),
        text: `${healEventText(event)}${why}`,
        data: forced ? { ...event, forced } : event,
      },
    ]);
    await rollouts.forgetEnv(app, env);
    deps.log.info(
      { app, env, instances: found.length, route: routeId, forced, by: req.actor },
      'pruned',
    );
    return { app, env, instances: found.length, route: routeId, forced };
  } finally {
    await lease.release();
  }
}
