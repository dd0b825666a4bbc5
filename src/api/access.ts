/**
 * Who may do what, decided purely: a token's role, its app and environment scopes, and its extra
 * permissions. Every check of the API goes through {@link authorize}: the /api guard (guards.ts)
 * calls it with the app and environments a request names (`:app`, `?app=`, `env` in the query or
 * body), and handlers call it for records they find by id (a rollout, a build). So a new route
 * is covered by naming its app and environment that way.
 */
import type { Permission, Role, TokenConfig } from '../config/controller-config.js';
import { GantryError, type ErrorCode } from '../errors.js';

const RANK: Record<Role, number> = { viewer: 0, deployer: 1, admin: 2 };

/** The caller, as its token says. */
export interface Principal {
  name: string;
  role: Role;
  /** Only these apps / environments; undefined means all. */
  apps?: readonly string[] | undefined;
  envs?: readonly string[] | undefined;
  permissions?: readonly Permission[] | undefined;
}

/** What a request needs; every part is optional, and all given parts must hold. */
export interface Need {
  role?: Role | undefined;
  app?: string | undefined;
  envs?: readonly (string | undefined)[] | undefined;
  permission?: Permission | undefined;
  /** A view across every app (webhook deliveries): only for tokens without an app scope. */
  unscoped?: boolean | undefined;
}

export interface Denial {
  code: ErrorCode;
  message: string;
}

/** The principal a configured token stands for. */
export function principalOf(t: TokenConfig): Principal {
  return { name: t.name, role: t.role, apps: t.apps, envs: t.envs, permissions: t.permissions };
}

/** Whether the caller may know that `app` exists at all. */
export function seesApp(who: Principal, app: string): boolean {
  return who.apps === undefined || who.apps.includes(app);
}

/** Whether the caller may see or act on environment `env` (of an app it sees). */
export function seesEnv(who: Principal, env: string): boolean {
  return who.envs === undefined || who.envs.includes(env);
}

/** The environments of `envs` the caller may see, in their order. */
export function visibleEnvs(who: Principal | undefined, envs: readonly string[]): string[] {
  return who ? envs.filter((e) => seesEnv(who, e)) : [...envs];
}

/** Whether the caller holds `p`: granted by name, or as an admin, who holds them all. */
export function holds(who: Principal, p: Permission): boolean {
  return who.role === 'admin' || (who.permissions ?? []).includes(p);
}

/**
 * Why `who` may not do what `need` says, or undefined when it may. Checked in this order:
 * an app outside the scope is answered exactly as an unknown app (404), whatever the role, so a
 * scoped token learns nothing about other teams' apps; then the role, the environments and the
 * permission (403, each with its own code).
 */
export function denial(who: Principal, need: Need): Denial | undefined {
  if (need.app !== undefined && !seesApp(who, need.app)) {
    return { code: 'GANTRY_ERR_NOT_FOUND', message: `app ${need.app} is not known` };
  }
  if (need.role !== undefined && RANK[who.role] < RANK[need.role]) {
    return {
      code: 'GANTRY_ERR_FORBIDDEN',
      message: `this needs the ${need.role} role; ${who.name} is a ${who.role}`,
    };
  }
  if (need.unscoped && who.apps !== undefined) {
    return {
      code: 'GANTRY_ERR_FORBIDDEN',
      message: `token ${who.name} is limited to some apps; this view spans every app`,
    };
  }
  const outside = (need.envs ?? []).find((e) => e !== undefined && !seesEnv(who, e));
  if (outside !== undefined) {
    return {
      code: 'GANTRY_ERR_ENV_FORBIDDEN',
      message: `token ${who.name} may not use environment ${outside}; it is limited to ${(who.envs ?? []).join(', ')}`,
    };
  }
  if (need.permission !== undefined && !holds(who, need.permission)) {
    return {
      code: 'GANTRY_ERR_PERMISSION_REQUIRED',
      message: `this needs the ${need.permission} permission, which token ${who.name} does not have (permissions: [${need.permission}] in gantry.config.yaml)`,
    };
  }
  return undefined;
}

/** Throws the {@link denial}, if any: the one check every API route goes through. */
export function authorize(who: Principal | undefined, need: Need): Principal {
  if (!who) throw new GantryError('GANTRY_ERR_UNAUTHORIZED', 'a valid bearer token is required');
  const d = denial(who, need);
  if (d) throw new GantryError(d.code, d.message);
  return who;
}
