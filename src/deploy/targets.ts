/**
 * The targets one controller deploys to, and which one an environment uses. gantry.yaml's
 * `target:` decides when a rollout opens; the name is kept on the record and the environment's
 * state, so what runs between rollouts (the reconciler, logs, `gantry run`) finds its instances
 * where they were started, whatever the spec at the branch head says now.
 */
import type { AppSpec } from '../config/app-spec.js';
import type { KnownTargets } from '../config/spec-targets.js';
import { resolveTargetName } from '../config/spec-targets.js';
import type { Edge, RouteSpec } from '../edge/edge.js';
import { GantryError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';

/** One place environments deploy to: a runtime, the edge in front of it, how routes are made. */
export interface Target {
  readonly name: string;
  readonly kind: 'docker' | 'kubernetes';
  readonly runtime: Runtime;
  readonly edge: Edge;
  /** Picks the listener of an environment the first time it is deployed. */
  routeFor(app: string, env: string, spec: AppSpec): Promise<RouteSpec>;
}

/** What deploys an environment on a target: the parts `Target` replaces. */
export interface OnTarget {
  runtime: Runtime;
  edge: Edge;
  routeFor(app: string, env: string, spec: AppSpec): Promise<RouteSpec>;
}

export class Targets implements KnownTargets {
  private readonly byName: ReadonlyMap<string, Target>;
  readonly names: readonly string[];

  constructor(
    list: readonly Target[],
    readonly defaultTarget: string,
  ) {
    this.byName = new Map(list.map((t) => [t.name, t]));
    this.names = list.map((t) => t.name);
    if (!this.byName.has(defaultTarget)) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `the default target ${defaultTarget} is not one of the targets (${this.names.join(', ')})`,
      );
    }
  }

  all(): Target[] {
    return [...this.byName.values()];
  }

  /** The target named `name`; an unknown name (a target since removed from the config) throws. */
  get(name: string): Target {
    const t = this.byName.get(name);
    if (!t) {
      throw new GantryError(
        'GANTRY_ERR_SPEC_INVALID',
        `target ${name} is not one of this controller's targets (${this.names.join(', ')})`,
      );
    }
    return t;
  }

  /** The target gantry.yaml names for `env` (`local` or none: the default one). */
  forSpec(spec: AppSpec, env: string): Target {
    const wanted = spec.environments[env]?.target;
    const name = resolveTargetName(this, wanted);
    if (name === undefined) {
      throw new GantryError(
        'GANTRY_ERR_SPEC_INVALID',
        `${spec.app}: environments.${env}.target names target "${wanted ?? ''}", which this controller does not have (its targets: ${this.names.join(', ')})`,
      );
    }
    return this.get(name);
  }

  /** The target an environment was deployed to (kept on its state); the default before any. */
  ofState(state: { readonly target?: string | undefined }): Target {
    return this.get(state.target ?? this.defaultTarget);
  }
}

/** `deps` with the runtime, edge and route picker of `target` in place of the others. */
export function onTarget<D extends OnTarget>(deps: D, target: Target): D {
  const { runtime, edge } = target;
  return { ...deps, runtime, edge, routeFor: target.routeFor.bind(target) };
}
