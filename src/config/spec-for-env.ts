/**
 * One environment's view of an app spec: the top-level run, health and rollout with that
 * environment's overrides (`environments.<env>` in gantry.yaml) applied.
 */
import type { AppSpec } from './app-spec.js';

/**
 * The spec as environment `env` runs it: its overrides applied, `env` vars merged over `run.env`.
 * An environment without overrides (or not in the spec) gets `spec` itself. Pure and idempotent.
 */
export function specForEnv(spec: AppSpec, env: string): AppSpec {
  const o = Object.hasOwn(spec.overrides, env) ? spec.overrides[env] : undefined;
  if (o === undefined) return spec;
  return {
    ...spec,
    run: {
      ...spec.run,
      replicas: o.replicas ?? spec.run.replicas,
      env: { ...spec.run.env, ...o.env },
      resources: { ...spec.run.resources, ...o.resources },
    },
    health: { ...spec.health, ...o.health },
    rollout: { ...spec.rollout, ...o.rollout },
  };
}
