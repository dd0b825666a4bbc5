import type { AppSpec } from '../config/app-spec.js';
import { GantryError } from '../errors.js';
import type { InstanceSpec, ReadinessSpec } from '../runtime/runtime.js';

/** Where a secret's value comes from: the controller's environment, `GANTRY_SECRET_<NAME>`. */
export function secretVar(name: string): string {
  return `GANTRY_SECRET_${name}`;
}

/**
 * Secret values for an app. A declared secret without a value stops the rollout before anything
 * starts: an instance missing its DATABASE_URL would only fail its health checks, less clearly.
 */
export function resolveSecrets(spec: AppSpec, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of spec.run.secrets) {
    const value = env[secretVar(name)];
    if (value === undefined) missing.push(name);
    else out[name] = value;
  }
  if (missing.length > 0) {
    throw new GantryError(
      'GANTRY_ERR_SPEC_INVALID',
      `secrets without a value: ${missing.join(', ')} (set ${missing.map(secretVar).join(', ')} for the controller)`,
    );
  }
  return out;
}

/** The runtime's instructions for one start action: pure, so tests can assert on it. */
export function instanceSpec(input: {
  spec: AppSpec;
  env: string;
  rolloutId: string;
  slot: string;
  revision: string;
  image: string;
  host: string;
  secrets: Record<string, string>;
}): InstanceSpec {
  const { spec } = input;
  return {
    app: spec.app,
    env: input.env,
    revision: input.revision,
    rolloutId: input.rolloutId,
    slot: input.slot,
    image: input.image,
    port: spec.run.port,
    vars: {
      ...spec.run.env,
      GANTRY_APP: spec.app,
      GANTRY_ENV: input.env,
      GANTRY_REVISION: input.revision,
    },
    secrets: input.secrets,
    cpu: spec.run.resources?.cpu,
    memoryBytes: spec.run.resources?.memoryBytes,
    host: input.host,
    readiness: readinessOf(spec),
  };
}

/** The health check as the engine's own readiness check (Kubernetes readiness probes). */
function readinessOf(spec: AppSpec): ReadinessSpec {
  const { check, intervalMs, timeoutMs } = spec.health;
  const c: ReadinessSpec['check'] =
    check.kind === 'http'
      ? { kind: 'http', path: check.path }
      : check.kind === 'tcp'
        ? { kind: 'tcp' }
        : { kind: 'exec', command: [...check.command] };
  return { check: c, intervalMs, timeoutMs };
}
