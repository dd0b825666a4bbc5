import { GantryError, type ErrorCode, ERRORS } from '../errors.js';

/** Where the CLI finds the controller: flags first, then GANTRY_URL / GANTRY_TOKEN. */
export interface ClientOptions {
  url: string;
  token?: string | undefined;
}

export function clientOptions(flags: {
  url?: string | undefined;
  token?: string | undefined;
}): ClientOptions {
  return {
    url: (flags.url ?? process.env.GANTRY_URL ?? 'http://127.0.0.1:8700').replace(/\/+$/, ''),
    token: flags.token ?? process.env.GANTRY_TOKEN,
  };
}

/** A small JSON client for the controller's API; API errors come back as GantryErrors. */
export async function api<T>(
  opts: ClientOptions,
  path: string,
  init: RequestInit = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (init.body) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${opts.url}${path}`, {
      ...init,
      headers: { ...headers, ...(init.headers as Record<string, string>) },
    });
  } catch (cause) {
    throw new GantryError(
      'GANTRY_ERR_QUEUE_UNAVAILABLE',
      `cannot reach the controller at ${opts.url}`,
      { cause },
    );
  }
  const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
  if (!res.ok) {
    const code = (
      body.code && body.code in ERRORS ? body.code : 'GANTRY_ERR_NOT_FOUND'
    ) as ErrorCode;
    throw new GantryError(code, `${res.status}: ${body.message ?? res.statusText}`);
  }
  return body as T;
}
