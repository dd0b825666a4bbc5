/**
 * Docker hosts of a target: a name the controller places instances by, an engine endpoint
 * (`unix:///var/run/docker.sock`, `unix:///path`, `tcp://host:port`, optionally with TLS files),
 * and the address its instances publish on, which the edge and the probes dial.
 */
import { readFileSync, statSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { inspect } from 'node:util';
import type Docker from 'dockerode';
import { GantryError, errorMessage } from '../../errors.js';

/** Paths of PEM files: the engine's CA, and the client certificate and key the engine trusts. */
export interface DockerTlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface DockerHostConfig {
  readonly name: string;
  readonly endpoint: string;
  /**
   * The IP address instances publish their port on, dialled by the edge and the probes; default:
   * the host of a `tcp://` endpoint when it is an IP, 127.0.0.1 for a Unix socket.
   */
  readonly address?: string | undefined;
  /** For `tcp://` endpoints that require TLS (conventionally port 2376): file paths, not PEM. */
  readonly tls?: DockerTlsFiles | undefined;
}

/** Where a Unix-socket engine's instances publish: it runs on the controller's machine. */
export const LOCAL_ADDRESS = '127.0.0.1';
/** Caps what is read as one PEM file: a path pointing elsewhere is refused, not slurped. */
const MAX_PEM_BYTES = 256 * 1024;

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
    return { protocol: host.tls ? 'https' : 'http', host: hostname, port };
  }
  throw invalid(host, `endpoint ${endpoint} is not supported; use unix:///path or tcp://host:port`);
}

/**
 * The address a host's instances publish on and are dialled at. Pure. Docker binds published
 * ports to an IP, never a name: a `tcp://` endpoint given by name needs `address` spelled out.
 */
export function hostAddress(host: DockerHostConfig): string {
  if (host.address !== undefined) {
    if (isIP(host.address) === 0) {
      throw invalid(host, `address "${host.address}" must be an IPv4 or IPv6 address`);
    }
    return host.address;
  }
  const options = dockerOptions(host);
  if (options.socketPath !== undefined) return LOCAL_ADDRESS;
  const name = String(options.host);
  if (name === 'localhost') return LOCAL_ADDRESS;
  if (isIP(name) === 0) {
    throw invalid(
      host,
      `set "address": the IP its instances publish on (the endpoint names ${name}, and ports bind to an IP)`,
    );
  }
  return name;
}

/**
 * The TLS material of a host, read from its files once at start. A file that is missing is a
 * config error naming the path; its content never appears in a message (the key is a secret).
 */
export function readTls(
  host: DockerHostConfig,
): { ca: Buffer; cert: Buffer; key: Buffer } | undefined {
  if (host.tls === undefined) return undefined;
  const read = (what: keyof DockerTlsFiles): Buffer => {
    const path = host.tls?.[what] ?? '';
    let pem: Buffer | undefined;
    try {
      // Size first: a path to a device or a huge file is refused before a byte is read.
      const info = statSync(path);
      if (info.isFile() && info.size <= MAX_PEM_BYTES) pem = readFileSync(path);
    } catch (e) {
      throw invalid(host, `cannot read tls.${what} ${path}: ${errorMessage(e)}`);
    }
    if (pem === undefined || !pem.includes('-----BEGIN ')) {
      throw invalid(host, `tls.${what} ${path} is not a PEM file`);
    }
    return pem;
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key') };
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
  const tls = readTls(host);
  // docker-modem applies ca/cert/key to each request over its own agent's connection.
  const agent = tls ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false });
  return { ...options, ...tls, agent: quietInInspect(agent) };
}

/**
 * docker-modem formats every request's options with util.inspect (hidden fields, no depth limit)
 * for its debug log, whether that log is on or not: through the agent, every socket in flight and
 * its request. That cost ~20 ms of CPU per request, most of an idle controller's CPU; the agent
 * now inspects as one word.
 */
function quietInInspect<T extends HttpAgent>(agent: T): T {
  Object.defineProperty(agent, inspect.custom, { value: () => '[Agent]' });
  return agent;
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
    if (host.tls !== undefined && !host.endpoint.startsWith('tcp://')) {
      throw invalid(host, 'tls applies to tcp:// endpoints only');
    }
    hostAddress(host);
  }
}

function invalid(host: DockerHostConfig, message: string): GantryError {
  return new GantryError('GANTRY_ERR_CONFIG_INVALID', `Docker host "${host.name}": ${message}`);
}
