/**
 * One environment's view of an app spec: the top-level run, health and rollout with that
 * environment's overrides (`environments.<env>` in gantry.yaml) applied.
 */
import type { AppSpec, EnvOverrides, ProcessDecl } from './app-spec.js';
import { WEB } from './processes.js';

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
      // Without `processes:` the one process is `web`, and its override is the run's replicas.
      replicas:
        (spec.processes === undefined ? o.processes?.[WEB]?.replicas : undefined) ??
        o.replicas ??
        spec.run.replicas,
      env: { ...spec.run.env, ...o.env },
      resources: { ...spec.run.resources, ...o.resources },
    },
    ...(spec.processes === undefined
      ? {}
      : { processes: spec.processes.map((p) => processForEnv(p, o)) }),
    health: { ...spec.health, ...o.health },
    rollout: { ...spec.rollout, ...o.rollout },
  };
}

/**
 * A process's replicas in an environment: its own override wins; `web` also takes the
 * environment's `replicas`, which meant the one process's before there were several.
 */
function processForEnv(p: ProcessDecl, o: EnvOverrides): ProcessDecl {
  const own = Object.hasOwn(o.processes ?? {}, p.name) ? o.processes?.[p.name] : undefined;
  const replicas = own?.replicas ?? (p.name === WEB ? o.replicas : undefined);
  return replicas === undefined ? p : { ...p, replicas };
}
