/**
 * Engine failures sorted by what happens next: an unreachable engine is worth a retry, a refused
 * create is not. Messages pass through `redact` so a secret echoed by the engine never leaves.
 */
import { GantryError, errorMessage, type ErrorCode } from '../../errors.js';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** The HTTP status the engine answered with, if the failure came from an answer. */
export function statusOf(e: unknown): number | undefined {
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own sentence (`{"message": …}`) rather than docker-modem's prefix. */
export function engineMessage(e: unknown): string {
  const json = (e as { json?: unknown } | null)?.json;
  if (typeof json === 'object' && json !== null) {
    const message = (json as { message?: unknown }).message;
    if (typeof message === 'string') return message.trim();
  }
  return errorMessage(e).trim();
}

export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}

/** Replaces every secret value in `text` with `***` (longest first, so overlaps cannot leak). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const value of [...secrets].sort((a, b) => b.length - a.length)) {
    if (value.length > 0) out = out.split(value).join('***');
  }
  return out;
}

/**
 * A typed error for a failed engine call: unreachable → GANTRY_ERR_DOCKER_UNAVAILABLE (retry),
 * anything the engine refused → `refused` (decided by the caller). The cause keeps dockerode's
 * error for logs, unless secrets are in play: then it is dropped, as its message may quote them.
 */
export function engineError(
  e: unknown,
  what: string,
  host: string,
  refused: ErrorCode,
  secrets: readonly string[] = [],
): GantryError {
  if (e instanceof GantryError) return e;
  const message = redact(engineMessage(e), secrets);
  const opts = secrets.length === 0 ? { cause: e } : {};
  if (isConnectionError(e)) {
    return new GantryError(
      'GANTRY_ERR_DOCKER_UNAVAILABLE',
      `${what}: the Docker engine of host "${host}" is not reachable (${message})`,
      opts,
    );
  }
  const status = statusOf(e);
  // 5xx without a sentence of its own is the engine in trouble, not a verdict on the request.
  const code =
    status === undefined || (status >= 500 && message === '')
      ? 'GANTRY_ERR_DOCKER_UNAVAILABLE'
      : refused;
  return new GantryError(code, `${what} on host "${host}": ${message}`, opts);
}
