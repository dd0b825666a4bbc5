import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role, TokenConfig } from '../config/controller-config.js';
import { currentOf, type Current } from '../config/live-config.js';
import { GantryError } from '../errors.js';

const RANK: Record<Role, number> = { viewer: 0, deployer: 1, admin: 2 };

/** `sha256:<hex>` of a token, the only form tokens are stored in. */
export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex')}`;
}

/** The tokens as configured now: a reader, so a config reload takes effect on the next request. */
export type TokenSource = Current<readonly TokenConfig[]>;

export interface Principal {
  name: string;
  role: Role;
}

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
      found = { name: t.name, role: t.role };
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
 */
export function requireRole(tokens: TokenSource, role: Role) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const who = req.principal ?? authenticate(currentOf(tokens), req.headers.authorization);
    if (!who) {
      throw new GantryError('GANTRY_ERR_UNAUTHORIZED', 'a valid bearer token is required');
    }
    if (RANK[who.role] < RANK[role]) {
      throw new GantryError(
        'GANTRY_ERR_FORBIDDEN',
        `this needs the ${role} role; ${who.name} is a ${who.role}`,
      );
    }
    req.principal = who;
  };
}
