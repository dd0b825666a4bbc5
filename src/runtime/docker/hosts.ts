/**
 * Docker hosts of a target: a name the controller places instances by, and an engine endpoint
 * (`unix:///var/run/docker.sock`, `unix:///path`, `tcp://host:port`, optionally with TLS files).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
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

/**
 * dockerode options that open a connection per request. Node's default agent keeps connections
 * alive, and a stopping dockerd closes its listener (the socket file goes) but keeps answering on
 * connections already open while it stops every container: through a kept connection the
 * controller would see its instances exit one by one and "repair" them mid-shutdown (remove them,
 * create successors the stopping engine cannot start). A fresh connection fails at once (ENOENT,
 * ECONNREFUSED): the engine is unreachable, and nothing is judged until it answers again.
 */
export function clientOptions(host: DockerHostConfig): Docker.DockerOptions & { agent: HttpAgent } {
  // docker-modem passes `agent` on to every request; @types/dockerode does not list it.
  const options = dockerOptions(host);
  const agent =
    options.protocol === 'https'
      ? new HttpsAgent({ keepAlive: false })
      : new HttpAgent({ keepAlive: false });
  return { ...options, agent };
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
