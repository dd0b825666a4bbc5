/** Pure mapping from what the engine reports about a container to the runtime's `Instance`. */
import type Docker from 'dockerode';
import type { Instance, InstanceState } from '../runtime.js';
import { PUBLISH_IP, portKey } from './container-spec.js';
import { LABEL, isManaged, isOneOff } from './labels.js';

const STATES: readonly InstanceState[] = [
  'created',
  'running',
  'restarting',
  'exited',
  'dead',
  'paused',
  'removing',
];

/** The subset of `GET /containers/{id}/json` the mapping reads (so tests can build it by hand). */
export type InspectLike = Pick<Docker.ContainerInspectInfo, 'Id' | 'Name' | 'RestartCount'> & {
  State: Pick<Docker.ContainerInspectInfo['State'], 'Status' | 'ExitCode' | 'StartedAt'>;
  Config: Pick<Docker.ContainerInspectInfo['Config'], 'Labels' | 'Image'>;
  NetworkSettings: { Ports?: Docker.ContainerInspectInfo['NetworkSettings']['Ports'] | null };
};

/**
 * The instance a container is, or undefined when Gantry did not create it (no managed label, or
 * labels missing) or it is a one-off: such containers are never returned as instances. `address`
 * is its host's, where its port is published.
 */
export function instanceOf(
  info: InspectLike,
  host: string,
  address: string = PUBLISH_IP,
): Instance | undefined {
  const labels = info.Config.Labels ?? {};
  // A one-off (release phase, `gantry run`) is never an instance: not a stray, not a replica.
  if (!isManaged(labels) || isOneOff(labels)) return undefined;
  const app = labels[LABEL.app];
  const env = labels[LABEL.env];
  const slot = labels[LABEL.slot];
  if (app === undefined || env === undefined || slot === undefined) return undefined;
  const state = stateOf(info.State.Status);
  const port = Number(labels[LABEL.port]);
  const hostPort = Number.isInteger(port)
    ? hostPortOf(info.NetworkSettings.Ports, port, address)
    : undefined;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    host,
    app,
    env,
    revision: labels[LABEL.revision] ?? '',
    rolloutId: labels[LABEL.rollout] ?? '',
    release: releaseOf(labels[LABEL.release]),
    // Absent on instances from before process types: they are `web`.
    ...(labels[LABEL.process] === undefined ? {} : { process: labels[LABEL.process] }),
    slot,
    image: info.Config.Image,
    state,
    // ExitCode is 0 for a container that never exited; it only means something once it has.
    exitCode:
      state === 'exited' || state === 'dead' || state === 'restarting'
        ? info.State.ExitCode
        : undefined,
    restartCount: info.RestartCount,
    startedAt: timeOf(info.State.StartedAt),
    hostPort,
    ...(hostPort === undefined ? {} : { hostAddress: address }),
  };
}

/** Unknown states (a newer engine) read as `dead`: not running, not to be trusted with traffic. */
export function stateOf(status: string): InstanceState {
  return STATES.find((s) => s === status) ?? 'dead';
}

/** The engine writes the zero time `0001-01-01T00:00:00Z` for "never". */
function timeOf(iso: string | undefined): number | undefined {
  if (!iso || iso.startsWith('0001-')) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The host port bound on `address` for the container port; the engine lists none while stopped. */
export function hostPortOf(
  ports: Docker.ContainerInspectInfo['NetworkSettings']['Ports'] | null | undefined,
  port: number,
  address: string = PUBLISH_IP,
): number | undefined {
  // Only the binding on the host's address counts: it is the one the edge and the probes dial.
  const binding = (ports?.[portKey(port)] ?? []).find((b) => b.HostIp === address);
  const n = Number(binding?.HostPort);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A release label's number, or null when absent (an instance from before releases) or garbled. */
function releaseOf(label: string | undefined): number | null {
  return label !== undefined && /^[1-9][0-9]{0,9}$/.test(label) ? Number(label) : null;
}
