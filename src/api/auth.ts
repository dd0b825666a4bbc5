import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role, TokenConfig } from '../config/controller-config.js';
import { currentOf, type Current } from '../config/live-config.js';
import { authorize, principalOf, type Principal } from './access.js';

export type { Principal } from './access.js';

/** `sha256:<hex>` of a token, the only form tokens are stored in. */
export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex')}`;
}

/** The tokens as configured now: a reader, so a config reload takes effect on the next request. */
export type TokenSource = Current<readonly TokenConfig[]>;

/** Finds the token's owner; every stored hash is compared, in constant time, whatever matches. */
export function authenticate(
  tokens: readonly TokenConfig[],
  header: string | undefined,
): Principal | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const presented = Buffer.from(hashToken(m[1]!));
  let found: Principal | undefined;
  for (const t of tokens) {
    const stored = Buffer.from(t.hash);
    if (stored.length === presented.length && timingSafeEqual(stored, presented)) {
      found = principalOf(t);
    }
  }
  return found;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * An `onRequest` hook that lets a request through only with a token of at least `role`. The
 * /api guard (guards.ts) has usually authenticated the caller already; a route it does not cover
 * authenticates here. Registered as `onRequest`, so a caller is refused before its body is read.
 * An `:app` outside the token's scope is a 404 before the role is looked at (access.ts).
 */
export function requireRole(tokens: TokenSource, role: Role) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const who = req.principal ?? authenticate(currentOf(tokens), req.headers.authorization);
    req.principal = authorize(who, { role, app: appOfParams(req.params) });
  };
}

/** The `:app` a route's path names, if any (params are routed, hence known before parsing). */
export function appOfParams(params: unknown): string | undefined {
  const app = (params as Record<string, unknown> | undefined)?.app;
  return typeof app === 'string' ? app : undefined;
}
