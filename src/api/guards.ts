import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GantryError } from '../errors.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The origin (`scheme://host[:port]`) of a URL, or undefined when it is not one. */
export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether a request may change state given its Origin header. Requests without one (the CLI,
 * curl, forges) pass: the check only concerns browsers, which always send it on such requests.
 * A browser page may call only from the controller's own origin (as the request reached it, or
 * the configured public URL behind a proxy).
 */
export function originAllowed(
  origin: string | undefined,
  own: { protocol: string; host: string | undefined },
  publicOrigin: string | undefined,
): boolean {
  if (origin === undefined) return true;
  const claimed = originOf(origin);
  if (!claimed) return false;
  if (publicOrigin && claimed === publicOrigin) return true;
  return own.host !== undefined && claimed === originOf(`${own.protocol}://${own.host}`);
}

/** The rate-limit bucket: the token (hashed; the token itself is never kept) or the address. */
export function rateKey(req: Pick<FastifyRequest, 'headers' | 'ip'>): string {
  const auth = req.headers.authorization;
  if (auth) return `t:${createHash('sha256').update(auth).digest('hex').slice(0, 32)}`;
  return `ip:${req.ip}`;
}

export interface GuardOptions {
  publicUrl?: string | undefined;
  rateLimit: { max: number; timeWindowMs: number };
}

/**
 * Guards of /api, registered before the routes:
 * - Origin check on state-changing requests (CSRF defence in depth). Tokens travel in the
 *   Authorization header, never in cookies, so a foreign page cannot make the browser attach
 *   them; refusing foreign origins before auth also covers any future cookie-based login.
 * - Rate limit per token (or per address without one), answered 429 with Retry-After. Webhooks
 *   (signed, and a forge retries them) and /healthz, /metrics and /docs are not counted.
 */
export async function registerGuards(app: FastifyInstance, opts: GuardOptions): Promise<void> {
  const publicOrigin = opts.publicUrl ? originOf(opts.publicUrl) : undefined;
  app.addHook('onRequest', async (req) => {
    if (!STATE_CHANGING.has(req.method) || !req.url.startsWith('/api/')) return;
    const origin = req.headers.origin;
    if (!originAllowed(origin, { protocol: req.protocol, host: req.headers.host }, publicOrigin)) {
      throw new GantryError(
        'GANTRY_ERR_ORIGIN_REJECTED',
        `requests from ${origin} may not change state here; use the controller's own UI or the CLI`,
      );
    }
  });
  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimit.max,
    timeWindow: opts.rateLimit.timeWindowMs,
    allowList: (req) => !req.url.startsWith('/api/'),
    keyGenerator: rateKey,
    errorResponseBuilder: (_req, ctx) =>
      new GantryError(
        'GANTRY_ERR_RATE_LIMITED',
        `more than ${ctx.max} requests in ${ctx.after}; retry after the Retry-After header's seconds`,
      ),
  });
}
