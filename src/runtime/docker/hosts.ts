/**
 * Docker hosts of a target: a name the controller places instances by, and an engine endpoint
 * (`unix:///var/run/docker.sock`, `unix:///path`, `tcp://host:port`, optionally with TLS files).
 */
import type Docker from 'dockerode';
import { GantryError } from '../../errors.js';

export interface DockerHostConfig {
  readonly name: string;
  readonly endpoint: string;
  /** PEM contents (not paths) for `tcp://` endpoints that require TLS (conventionally port 2376). */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string } | undefined;
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/i;

/** dockerode connection options for a host; throws GANTRY_ERR_CONFIG_INVALID on a bad endpoint. */
export function dockerOptions(host: DockerHostConfig): Docker.DockerOptions {
  if (!NAME.test(host.name)) {
    throw invalid(host, `host name "${host.name}" must be letters, digits, ".", "_" or "-"`);
  }
  const { endpoint } = host;
  if (endpoint.startsWith('unix://')) {
    const socketPath = endpoint.slice('unix://'.length);
    if (!socketPath.startsWith('/')) {
      throw invalid(host, `${endpoint} must name an absolute socket path (unix:///path)`);
    }
    return { socketPath };
  }
  const tcp = /^tcp:\/\/(\[[0-9a-f:]+\]|[^:/[\]]+):(\d{1,5})\/?$/i.exec(endpoint);
  if (tcp?.[1] !== undefined && tcp[2] !== undefined) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) throw invalid(host, `${endpoint} has no valid port`);
    const hostname = tcp[1].replace(/^\[(.*)\]$/, '$1');
    if (host.tls) {
      return { protocol: 'https', host: hostname, port, ...host.tls };
    }
    return { protocol: 'http', host: hostname, port };
  }
  throw invalid(host, `endpoint ${endpoint} is not supported; use unix:///path or tcp://host:port`);
}

/** Checks a host list: at least one host, names unique, every endpoint parseable. */
export function validateHosts(hosts: readonly DockerHostConfig[]): void {
  if (hosts.length === 0) {
    throw new GantryError('GANTRY_ERR_CONFIG_INVALID', 'a Docker target needs at least one host');
  }
  const seen = new Set<string>();
  for (const host of hosts) {
    if (seen.has(host.name)) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `Docker host "${host.name}" is listed twice`,
      );
    }
    seen.add(host.name);
    dockerOptions(host);
  }
}

function invalid(host: DockerHostConfig, message: string): GantryError {
  return new GantryError('GANTRY_ERR_CONFIG_INVALID', `Docker host "${host.name}": ${message}`);
}
