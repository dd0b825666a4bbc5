import type { AppSpec } from '../config/app-spec.js';
import { GantryError } from '../errors.js';
import type { InstanceSpec, ReadinessSpec } from '../runtime/runtime.js';

/** Where a secret's value came from before releases: the controller's environment (import only). */
export function secretVar(name: string): string {
  return `GANTRY_SECRET_${name}`;
}

/** What a release gives every instance besides the spec: its config vars and secret values. */
export interface ReleaseConfig {
  readonly vars: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
}

export const EMPTY_CONFIG: ReleaseConfig = { vars: {}, secrets: {} };

/**
 * A secret the spec declares (`run.secrets`) without a value in the release stops the rollout
 * before anything starts: an instance missing its DATABASE_URL would only fail its health
 * checks, less clearly. The message names the keys and how to set them, never a value.
 */
export function requireSecrets(
  spec: AppSpec,
  env: string,
  secrets: Readonly<Record<string, string>>,
): void {
  const missing = spec.run.secrets.filter((name) => secrets[name] === undefined);
  if (missing.length > 0) {
    throw new GantryError(
      'GANTRY_ERR_SECRET_MISSING',
      `secrets without a value in ${spec.app}/${env}: ${missing.join(', ')} (set them with: gantry config:set ${spec.app} ${missing.map((m) => `${m}=…`).join(' ')} --secret --env ${env})`,
    );
  }
}

/**
 * The variables a release's processes get (instances and one-offs alike): later layers win,
 * spec `run.env` < release vars < `GANTRY_*`, which the controller owns.
 */
export function releaseVars(input: {
  spec: AppSpec;
  env: string;
  revision: string;
  config: ReleaseConfig;
  release?: number | undefined;
}): Record<string, string> {
  return {
    ...input.spec.run.env,
    ...input.config.vars,
    GANTRY_APP: input.spec.app,
    GANTRY_ENV: input.env,
    GANTRY_REVISION: input.revision,
    ...(input.release === undefined ? {} : { GANTRY_RELEASE: `v${input.release}` }),
  };
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
  /** The release's config; its vars win over `run.env`, Gantry's own win over both. */
  config: ReleaseConfig;
  release?: number | undefined;
}): InstanceSpec {
  const { spec } = input;
  return {
    app: spec.app,
    env: input.env,
    revision: input.revision,
    rolloutId: input.rolloutId,
    slot: input.slot,
    ...(input.release === undefined ? {} : { release: input.release }),
    image: input.image,
    port: spec.run.port,
    vars: releaseVars(input),
    secrets: input.config.secrets,
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
