import type { ControllerConfig } from './controller-config.js';
import { redactUrl, withoutUserInfo } from './redact-url.js';

export { isSecretParam, redactUrl, withoutUserInfo } from './redact-url.js';

const SET = '(set)';
/** Every string in `value` that looks like a URL (`scheme://…`), passed through `redactUrl`. */
function redactUrlsDeep<T>(value: T): T {
  if (typeof value === 'string') {
    return (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => redactUrlsDeep(v)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]: [string, unknown]) => [k, redactUrlsDeep(v)]),
    ) as T;
  }
  return value;
}

/**
 * The controller's effective configuration as an admin may see it: every secret (token hashes,
 * webhook secrets, git passwords, forge tokens, notification secrets) is replaced by whether it
 * is set, and every URL anywhere in it (Redis, Docker and runtime hosts, Caddy admin, ACME CA,
 * repos, forges…) loses its credentials via `redactUrl`. The registry address may be written
 * without a scheme (`user:pw@host:5000`), so it is stripped by name. Pure, so a test can show no
 * secret survives it.
 */
export function redactConfig(config: ControllerConfig) {
  return redactUrlsDeep({
    ...config,
    registry: {
      address: withoutUserInfo(config.registry.address),
      prune: config.registry.prune,
      credentials: config.registry.credentials
        ? { username: config.registry.credentials.username, password: SET }
        : null,
    },
    // Named field by field, never the hash; scopes and permissions are what an admin checks here.
    tokens: config.tokens.map((t) => ({
      name: t.name,
      role: t.role,
      ...(t.apps ? { apps: t.apps } : {}),
      ...(t.envs ? { envs: t.envs } : {}),
      ...(t.permissions ? { permissions: t.permissions } : {}),
    })),
    repos: config.repos.map((r) => ({
      name: r.name,
      url: withoutUserInfo(r.url),
      branches: r.branches,
      apps: r.apps,
      pollIntervalSeconds: r.pollIntervalSeconds,
      webhookSecret: r.webhookSecret ? SET : null,
      credentials: r.credentials ? { username: r.credentials.username, password: SET } : null,
      forge: r.forge
        ? {
            kind: r.forge.kind,
            apiUrl: r.forge.apiUrl,
            webUrl: r.forge.webUrl ?? null,
            project: r.forge.project ?? null,
            token: SET,
          }
        : null,
    })),
    // Incoming-webhook URLs (Slack's above all) are themselves credentials: show the host only.
    notifications: config.notifications.map((n) => ({
      name: n.name,
      kind: n.kind,
      url: hostOf(n.url),
      secret: n.secret ? SET : null,
      apps: n.apps ?? null,
      environments: n.environments ?? null,
      events: n.events ?? null,
    })),
  });
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}
