/**
 * What the engine is asked to create for an instance, built purely so tests assert on the data
 * (Kamal's habit: builders return, a thin executor sends).
 */
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { envKey, NAME_SEPARATOR } from '../../config/env-names.js';
import type { InstanceSpec } from '../runtime.js';
import { LABEL } from './labels.js';

/** Crash loops stay visible as a restart count, then stop: a rollout must see them fail. */
export const MAX_RESTARTS = 3;
export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;
/** json-file rotation: an instance that logs in a loop cannot fill the host's disk. */
export const LOG_MAX_SIZE = '10m';
export const LOG_MAX_FILES = '3';

/**
 * Where published ports listen by default: loopback, for an engine on the controller's machine
 * (a remote host publishes on its own `address`, see hosts.ts).
 */
export const PUBLISH_IP = '127.0.0.1';

/**
 * Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`: other characters become `-`, and then a short
 * hash of the original keeps two different names from colliding.
 */
export function dockerName(raw: string): string {
  const clean = raw.replace(/[^a-zA-Z0-9_.-]/g, '-');
  if (clean === raw) return raw;
  return `${clean}-${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;
}

/**
 * `gantry-<app>--<env>--<slot>` for `web`, `gantry-<app>--<env>--<process>--<slot>` for other
 * process types: "--" occurs in neither app nor environment name, so two app environments never
 * share a name (env-names.ts), and slots (`<rollout id>-<n>`) never hold it, so no process's name
 * is another's. Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; other characters become `-`, and
 * then a short hash of the original keeps two different slots from colliding. Renaming is safe:
 * instances are found by their labels; the name only makes a slot's start idempotent.
 */
export function containerName(
  spec: Pick<InstanceSpec, 'app' | 'env' | 'slot' | 'process'>,
): string {
  const process =
    spec.process === undefined || spec.process === 'web' ? '' : `${spec.process}${NAME_SEPARATOR}`;
  const raw = `gantry-${envKey(spec.app, spec.env)}${NAME_SEPARATOR}${process}${spec.slot}`;
  return dockerName(raw);
}

/**
 * The name a slot's container had before app environments were joined with "--": a rollout that
 * started it under an older controller finds it again rather than starting a second one.
 */
export function legacyContainerName(spec: Pick<InstanceSpec, 'app' | 'env' | 'slot'>): string {
  const raw = `gantry-${spec.app}-${spec.env}-${spec.slot}`;
  return dockerName(raw);
}

/** The labels instances are found by; identifiers only, never a variable or secret value. */
export function instanceLabels(spec: InstanceSpec): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.app]: spec.app,
    [LABEL.env]: spec.env,
    [LABEL.revision]: spec.revision,
    [LABEL.rollout]: spec.rolloutId,
    [LABEL.slot]: spec.slot,
    ...(spec.release === undefined ? {} : { [LABEL.release]: String(spec.release) }),
    ...(spec.process === undefined ? {} : { [LABEL.process]: spec.process }),
    // Only a routed instance has a published port to read back.
    ...(spec.routed === false ? {} : { [LABEL.port]: String(spec.port) }),
  };
}

/** `KEY=value` lines sorted by key, so the same spec always builds the same options. */
export function sortedEnv(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k] ?? ''}`);
}

/**
 * The process environment, sorted so the same spec always builds the same options. Later layers
 * win: `PORT` (a convention many frameworks read) < vars < secrets < `GANTRY_*`, which the
 * controller owns so an app can always tell which revision it is.
 */
export function containerEnv(spec: InstanceSpec): string[] {
  const env: Record<string, string> = {
    PORT: String(spec.port),
    ...spec.vars,
    ...spec.secrets,
    GANTRY_APP: spec.app,
    GANTRY_ENV: spec.env,
    GANTRY_REVISION: spec.revision,
    GANTRY_SLOT: spec.slot,
    ...(spec.process === undefined ? {} : { GANTRY_PROCESS: spec.process }),
  };
  return sortedEnv(env);
}

/** The container port key the engine uses in ExposedPorts, PortBindings and inspect output. */
export function portKey(port: number): string {
  return `${port}/tcp`;
}

/**
 * `POST /containers/create` for one instance. Pure. A routed instance publishes its port on its
 * host's `address` (loopback for a local engine) for the edge; an unrouted one (a worker)
 * publishes nothing.
 */
export function containerCreateOptions(
  spec: InstanceSpec,
  address: string = PUBLISH_IP,
): Docker.ContainerCreateOptions {
  const port = portKey(spec.port);
  const stopTimeout = spec.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS;
  const routed = spec.routed !== false;
  return {
    name: containerName(spec),
    Image: spec.image,
    ...(spec.command === undefined ? {} : { Cmd: [...spec.command] }),
    Env: containerEnv(spec),
    Labels: instanceLabels(spec),
    ...(routed ? { ExposedPorts: { [port]: {} } } : {}),
    // The image's STOPSIGNAL is honoured (SIGTERM unless it says otherwise); the grace period is ours.
    StopTimeout: stopTimeout,
    Tty: false,
    HostConfig: {
      // HostPort '' lets the engine pick a free port: replicas of one app share a host.
      ...(routed ? { PortBindings: { [port]: [{ HostIp: address, HostPort: '' }] } } : {}),
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: MAX_RESTARTS },
      ...processHostConfig(spec),
    },
  };
}

/** Host settings every Gantry container gets: an init, rotated logs, and the spec's limits. Pure. */
export function processHostConfig(
  spec: Pick<InstanceSpec, 'cpu' | 'memoryBytes'>,
): Docker.HostConfig {
  return {
    // An init as PID 1 (Docker's tini) passes SIGTERM on and reaps zombies: a server that runs
    // as PID 1 itself ignores SIGTERM, and every stop would wait out the grace period.
    Init: true,
    LogConfig: {
      Type: 'json-file',
      Config: { 'max-size': LOG_MAX_SIZE, 'max-file': LOG_MAX_FILES },
    },
    ...(spec.cpu === undefined ? {} : { NanoCpus: Math.round(spec.cpu * 1e9) }),
    // Swap equal to memory: the limit means what it says instead of paging to disk.
    ...(spec.memoryBytes === undefined
      ? {}
      : { Memory: spec.memoryBytes, MemorySwap: spec.memoryBytes }),
  };
}
