import { GantryError, type ErrorCode, ERRORS, isGantryError } from '../errors.js';
import { cliConfigPath, loadCliConfig, resolveClient, runTokenCommand } from './config.js';

/** Where the CLI finds the controller, and the token it sends (never printed). */
export interface ClientOptions {
  url: string;
  token?: string | undefined;
}

/**
 * Flags first, then GANTRY_URL / GANTRY_TOKEN, then the CLI config file
 * (`$GANTRY_CLI_CONFIG` or `~/.config/gantry/cli.yaml`); a `tokenCommand` runs only when needed.
 */
export function clientOptions(
  flags: { url?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): ClientOptions {
  const needFile = !(flags.url ?? env.GANTRY_URL) || !(flags.token ?? env.GANTRY_TOKEN);
  const file = needFile ? loadCliConfig(cliConfigPath(env)) : {};
  const r = resolveClient(flags, env, file);
  const token = r.token && ('value' in r.token ? r.token.value : runTokenCommand(r.token.command));
  return { url: r.url, token };
}

/** What an API error answer said, kept on the thrown GantryError's details. */
export interface ApiFailure {
  status: number;
  /** The server's code, even one this client's catalogue does not know. */
  code: string;
  message: string;
}

/** The API answer behind an error thrown by `api()`, if it was one. */
export function apiFailure(e: unknown): ApiFailure | undefined {
  if (!isGantryError(e) || !e.details || typeof e.details.status !== 'number') return undefined;
  return e.details as unknown as ApiFailure;
}

/** True when the controller could not be reached at all (nothing answered). */
export function isUnreachable(e: unknown): boolean {
  return isGantryError(e) && e.details?.unreachable === true;
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
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    const why = inner?.code ?? inner?.message;
    throw new GantryError(
      'GANTRY_ERR_QUEUE_UNAVAILABLE',
      `cannot reach the controller at ${opts.url}${why ? ` (${why})` : ''}`,
      { cause, details: { unreachable: true } },
    );
  }
  const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
  if (!res.ok) {
    const code = (
      body.code && body.code in ERRORS ? body.code : 'GANTRY_ERR_NOT_FOUND'
    ) as ErrorCode;
    const message = body.message ?? res.statusText;
    const failure: ApiFailure = { status: res.status, code: body.code ?? code, message };
    throw new GantryError(code, `${res.status}: ${message}`, {
      details: failure as unknown as Record<string, unknown>,
    });
  }
  return body as T;
}

/** The GantryError for an API answer that is not ok (what `api()` throws), from its JSON body. */
export async function apiFailureOf(res: Response): Promise<GantryError> {
  const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
  const code = (body.code && body.code in ERRORS ? body.code : 'GANTRY_ERR_NOT_FOUND') as ErrorCode;
  const message = body.message ?? res.statusText;
  const failure: ApiFailure = { status: res.status, code: body.code ?? code, message };
  return new GantryError(code, `${res.status}: ${message}`, {
    details: failure as unknown as Record<string, unknown>,
  });
}

/** `/api/…?a=1&b=2` from the defined values only. */
export function withQuery(
  path: string,
  query: Record<string, string | number | undefined>,
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** `/api/apps/<app>` with the name escaped. */
export function appPath(app: string, rest = ''): string {
  return `/api/apps/${encodeURIComponent(app)}${rest}`;
}
