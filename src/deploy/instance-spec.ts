import type { AppSpec } from '../config/app-spec.js';
import { WEB, processesOf, type ProcessSpec } from '../config/processes.js';
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
  /** Its process type; absent: `web`. */
  process?: string | undefined;
}): InstanceSpec {
  const { spec } = input;
  const process = processSpecOf(spec, input.process ?? WEB);
  return {
    app: spec.app,
    env: input.env,
    revision: input.revision,
    rolloutId: input.rolloutId,
    slot: input.slot,
    ...(input.release === undefined ? {} : { release: input.release }),
    image: input.image,
    port: process.port ?? spec.run.port,
    process: process.name,
    ...(process.command === undefined ? {} : { command: [...process.command] }),
    ...(process.port === undefined ? { routed: false } : {}),
    vars: releaseVars(input),
    secrets: input.config.secrets,
    cpu: process.resources.cpu,
    memoryBytes: process.resources.memoryBytes,
    host: input.host,
    readiness: readinessOf(process),
  };
}

/**
 * The process type an instance runs, from the spec; one the spec no longer declares (an instance
 * started before it was removed, started again) runs as an unrouted process of the image's CMD.
 */
function processSpecOf(spec: AppSpec, name: string): ProcessSpec {
  const declared = processesOf(spec).find((p) => p.name === name);
  if (declared !== undefined) return declared;
  return {
    name,
    command: undefined,
    replicas: 0,
    port: undefined,
    resources: spec.run.resources,
    health: { ...spec.health, check: { kind: 'running' } },
  };
}

/** The health check as the engine's own readiness check (Kubernetes readiness probes); none for "running". */
function readinessOf(process: ProcessSpec): ReadinessSpec | undefined {
  const { check, intervalMs, timeoutMs } = process.health;
  if (check.kind === 'running') return undefined;
  const c: ReadinessSpec['check'] =
    check.kind === 'http'
      ? { kind: 'http', path: check.path }
      : check.kind === 'tcp'
        ? { kind: 'tcp' }
        : { kind: 'exec', command: [...check.command] };
  return { check: c, intervalMs, timeoutMs };
}
