/**
 * The controller's caps on what one app spec may ask for: replicas and surge. A rollout decision
 * and a reconcile pass run on the controller's event loop and grow with the instance count, so a
 * spec asking for 100,000 replicas would block the controller (and let its leases lapse); each
 * controller says how many it will run (`deploy.maxReplicas`, `deploy.maxSurge` in its config).
 */
import { GantryError } from '../errors.js';
import type { AppSpec } from './app-spec.js';
import { processesOf } from './processes.js';
import { specForEnv } from './spec-for-env.js';

export { REPLICAS_CEILING } from './app-spec-schema.js';

export interface SpecLimits {
  readonly maxReplicas: number;
  readonly maxSurge: number;
}

/** What a controller allows when its config says nothing. */
export const DEFAULT_SPEC_LIMITS: SpecLimits = { maxReplicas: 200, maxSurge: 50 };

/**
 * Throws GANTRY_ERR_SPEC_INVALID when an environment of the spec (each of `envs`; by default
 * every one it names) asks for more replicas or surge than the controller allows, naming the cap
 * and the config key that sets it.
 */
export function checkSpecLimits(
  spec: AppSpec,
  limits: SpecLimits,
  envs: readonly string[] = Object.keys(spec.environments),
): void {
  const problems: string[] = [];
  for (const env of envs.length > 0 ? envs : ['']) {
    const envSpec = specForEnv(spec, env);
    const { run, rollout } = envSpec;
    const where = env === '' ? '' : ` (environment ${env})`;
    if (run.replicas > limits.maxReplicas)
      problems.push(
        `run.replicas ${run.replicas}${where} is above this controller's cap of ${limits.maxReplicas} (deploy.maxReplicas in the controller config)`,
      );
    for (const p of envSpec.processes === undefined ? [] : processesOf(envSpec)) {
      if (p.replicas > limits.maxReplicas && p.replicas !== run.replicas)
        problems.push(
          `processes.${p.name}.replicas ${p.replicas}${where} is above this controller's cap of ${limits.maxReplicas} (deploy.maxReplicas in the controller config)`,
        );
    }
    if (rollout.maxSurge > limits.maxSurge)
      problems.push(
        `rollout.maxSurge ${rollout.maxSurge}${where} is above this controller's cap of ${limits.maxSurge} (deploy.maxSurge in the controller config)`,
      );
  }
  if (problems.length > 0)
    throw new GantryError('GANTRY_ERR_SPEC_INVALID', `${spec.app}: ${problems.join('; ')}`, {
      details: { limits },
    });
}
