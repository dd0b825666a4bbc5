/** A thin client for Caddy's admin API: sends JSON, returns JSON, names failures by what to do next. */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { GantryError, errorMessage } from '../../errors.js';
import { adminTarget, type AdminTarget } from './admin-endpoint.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** A config value and the ETag to change it only if nobody else has since (`If-Match`). */
export interface Versioned {
  /** undefined when the path does not exist (Caddy answers `null` or 404). */
  readonly value: unknown;
  readonly etag: string | undefined;
}

export interface AdminClient {
  readonly url: string;
  /**
   * The decoded body (undefined when empty). With `ifMatch`, Caddy applies the change only if
   * the config under the ETag's path is unchanged, else throws a conflict (see `isConflict`).
   * Throws GantryError; `NOT_FOUND` for a 404.
   */
  call(method: Method, path: string, body?: unknown, ifMatch?: string): Promise<unknown>;
  /** Like `call('GET', …)` but undefined for a missing object instead of an error. */
  get(path: string): Promise<unknown>;
  /** The value at a `/config/…` path with its ETag. */
  read(path: string): Promise<Versioned>;
}

/** Whether `e` is Caddy refusing an `If-Match` change because the config moved on meanwhile. */
export function isConflict(e: unknown): boolean {
  return e instanceof GantryError && e.details?.status === 412;
}

// Every config load restarts Caddy's admin server and closes its connections (2.6), so a pooled
// keep-alive connection is often dead by the next call. Each call gets a fresh connection, and
// refused/reset connects are retried: every call we make is idempotent (upserts, full replaces).
const RETRIES = 5;
const RETRY_DELAY_MS = 100;
const TIMEOUT_MS = 15_000;

/** A client for the admin endpoint at `url` (`unix:/PATH` or `http://127.0.0.1:PORT`). */
export function adminClient(url: string): AdminClient {
  const base = adminTarget(url);
  const send = async (
    method: Method,
    path: string,
    body?: unknown,
    ifMatch?: string,
  ): Promise<Answer> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(base, method, path, body, ifMatch);
      } catch (e) {
        if (e instanceof GantryError || attempt >= RETRIES) {
          throw e instanceof GantryError
            ? e
            : new GantryError(
                'GANTRY_ERR_EDGE_UNAVAILABLE',
                `Caddy admin API at ${url} did not answer ${method} ${path}: ${errorMessage(e)}`,
                { cause: e },
              );
        }
        await sleep(RETRY_DELAY_MS * attempt);
      }
    }
  };
  const read = async (path: string): Promise<Versioned> => {
    try {
      const { value, etag } = await send('GET', path);
      return { value: value ?? undefined, etag };
    } catch (e) {
      if (e instanceof GantryError && e.code === 'GANTRY_ERR_NOT_FOUND') {
        return { value: undefined, etag: undefined };
      }
      throw e;
    }
  };
  return {
    url,
    call: async (method, path, body, ifMatch) => (await send(method, path, body, ifMatch)).value,
    get: async (path) => (await read(path)).value,
    read,
  };
}

interface Answer {
  readonly value: unknown;
  readonly etag: string | undefined;
}

function once(
  base: { target: AdminTarget; host: string },
  method: Method,
  path: string,
  body: unknown,
  ifMatch: string | undefined,
): Promise<Answer> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...base.target,
        setHost: false,
        method,
        path,
        agent: false,
        timeout: TIMEOUT_MS,
        headers: {
          host: base.host,
          connection: 'close',
          ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }),
          ...(data === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': data.length }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            // Caddy 2.6 sends the ETag as a trailer, after the body.
            const etag = res.trailers.etag ?? res.headers.etag;
            try {
              resolve({
                value: text.trim() === '' ? undefined : (JSON.parse(text) as unknown),
                etag,
              });
            } catch (e) {
              reject(
                new GantryError('GANTRY_ERR_EDGE_UNAVAILABLE', `bad JSON from Caddy`, { cause: e }),
              );
            }
            return;
          }
          reject(rejection(method, path, status, text));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

function rejection(method: Method, path: string, status: number, text: string): GantryError {
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // not JSON: keep the text
  }
  const what = `Caddy answered ${status} to ${method} ${path}: ${message}`;
  if (status === 404) return new GantryError('GANTRY_ERR_NOT_FOUND', what);
  // 4xx: our config was refused (bad value, port in use); 5xx: Caddy failed to load it. Both
  // repeat identically on retry, so neither is transient.
  return new GantryError('GANTRY_ERR_EDGE_REJECTED', what, { details: { status } });
}
