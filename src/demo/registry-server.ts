/** A private image registry (Debian's `docker-registry`, distribution v2) for tests and the demo. */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GantryError, errorMessage } from '../errors.js';
import { freePort, spawnDaemon, waitReady } from '../process/daemon.js';

export interface RegistryServer {
  /** `127.0.0.1:PORT`, the prefix of image names pushed there (Docker trusts 127.0.0.0/8 without TLS). */
  readonly address: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Its config.yml, what `docker-registry garbage-collect` needs. */
  readonly configFile: string;
  stop(): Promise<void>;
}

const NONCE_HEADER = 'X-Gantry-Registry';

/**
 * The registry's config.yml: filesystem storage under `dir`, deletes allowed (pruning needs
 * them), loopback only; with `htpasswd` (a file of bcrypt lines), Basic authentication for
 * every request, else none.
 */
export function registryConfig(
  dir: string,
  port: number,
  nonce = '',
  htpasswd?: string,
): Record<string, unknown> {
  return {
    ...(htpasswd ? { auth: { htpasswd: { realm: 'gantry', path: htpasswd } } } : {}),
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: join(dir, 'data') },
      delete: { enabled: true },
      // Upload purging scans storage in the background; a short-lived registry has nothing to purge.
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `127.0.0.1:${port}`,
      secret: 'gantry-local-registry',
      // The nonce tells our registry from another process already answering on the port.
      headers: { 'X-Content-Type-Options': ['nosniff'], [NONCE_HEADER]: [nonce] },
    },
  };
}

/** Starts `docker-registry serve` in `dir` on `port` (0 or absent: a free one); waits for `GET /v2/` 200. */
export async function startRegistry(opts: {
  dir: string;
  port?: number;
  htpasswd?: string;
}): Promise<RegistryServer> {
  await mkdir(join(opts.dir, 'data'), { recursive: true });
  const pickPort = !opts.port;
  const configFile = join(opts.dir, 'config.yml');
  // A free port can be taken between picking and binding; with a port of our choosing, pick again.
  for (let attempt = 1; ; attempt++) {
    const port = pickPort ? await freePort() : (opts.port as number);
    const url = `http://127.0.0.1:${port}`;
    try {
      const nonce = randomBytes(8).toString('hex');
      await writeFile(configFile, stringify(registryConfig(opts.dir, port, nonce, opts.htpasswd)));
      const daemon = await spawnDaemon({
        name: 'docker-registry',
        command: 'docker-registry',
        args: ['serve', configFile],
        logFile: join(opts.dir, 'registry.log'),
        cwd: opts.dir,
      });
      await waitReady(daemon, `GET ${url}/v2/`, async () => {
        const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) });
        // With authentication an anonymous request is refused, yet answered by our registry.
        const ready = res.status === 200 || (opts.htpasswd !== undefined && res.status === 401);
        return ready && res.headers.get(NONCE_HEADER) === nonce;
      });
      return { address: `127.0.0.1:${port}`, url, configFile, stop: () => daemon.stop() };
    } catch (e) {
      if (pickPort && attempt < 3 && /address already in use/i.test(errorMessage(e))) continue;
      const message = `cannot start the registry: ${errorMessage(e)}`;
      throw new GantryError('GANTRY_ERR_REGISTRY_UNAVAILABLE', message, { cause: e });
    }
  }
}
