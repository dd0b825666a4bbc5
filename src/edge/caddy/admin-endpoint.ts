/**
 * Where a Caddy admin API listens, as Gantry names it (pure). The edge Gantry starts puts it on a
 * Unix socket in the tier's directory (mode 0700): another local user can neither connect to it
 * nor change routes, which any user could on 127.0.0.1:PORT. A TCP URL still works for an edge
 * an older Gantry started (until its Caddy restarts) and for a Caddy run elsewhere.
 *
 *   unix:/var/lib/gantry/edge/front/admin.sock   a Unix socket (absolute path)
 *   http://127.0.0.1:2019                         TCP
 */
import { GantryError } from '../../errors.js';

/** A Unix socket's path must fit `sockaddr_un.sun_path` (108 bytes with the NUL on Linux). */
export const MAX_SOCKET_PATH = 107;

const UNIX_PREFIX = 'unix:';

/** Where to connect: `http.request` options for the socket or the TCP address. */
export type AdminTarget =
  { readonly socketPath: string } | { readonly host: string; readonly port: number };

/** The admin URL of a Unix socket at `path`. */
export function adminSocketUrl(path: string): string {
  return `${UNIX_PREFIX}${path}`;
}

/** Caddy's `admin.listen` for a Unix socket at `path` (network `unix`, then the path). */
export function adminListenOf(path: string): string {
  if (!path.startsWith('/')) {
    throw new GantryError('GANTRY_ERR_CONFIG_INVALID', `admin socket path must be absolute`);
  }
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `admin socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes: choose a shorter edge directory`,
    );
  }
  return `unix/${path}`;
}

/** The admin URL Caddy's `admin.listen` value names, or undefined for one we do not use. */
export function adminUrlOfListen(listen: unknown): string | undefined {
  if (typeof listen !== 'string') return undefined;
  if (listen.startsWith('unix//')) return adminSocketUrl(listen.slice('unix/'.length));
  const tcp = /^127\.0\.0\.1:(\d{1,5})$/.exec(listen);
  return tcp ? `http://127.0.0.1:${tcp[1]}` : undefined;
}

/** Whether `url` names a Unix socket. */
export function isSocketUrl(url: string): boolean {
  return url.startsWith(UNIX_PREFIX);
}

/**
 * The connect target and Host header for `url`. Caddy checks the Host of every admin request
 * (DNS rebinding): over a Unix socket only an empty one is allowed.
 */
export function adminTarget(url: string): { target: AdminTarget; host: string } {
  if (isSocketUrl(url)) {
    const socketPath = url.slice(UNIX_PREFIX.length);
    if (!socketPath.startsWith('/')) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `bad admin URL ${url}: unix:/ABSOLUTE/PATH`,
      );
    }
    return { target: { socketPath }, host: '' };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new GantryError('GANTRY_ERR_CONFIG_INVALID', `bad admin URL: not a URL`, { cause: e });
  }
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  return { target: { host: parsed.hostname, port }, host: parsed.host };
}
