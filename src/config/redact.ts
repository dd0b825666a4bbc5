import type { ControllerConfig } from './controller-config.js';

const SET = '(set)';

/** A URL without its user info (`redis://:password@host` → `redis://host`); other text unchanged. */
export function withoutUserInfo(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * The controller's effective configuration as an admin may see it: every secret (token hashes,
 * webhook secrets, git passwords, forge tokens, notification secrets, passwords in URLs) is
 * replaced by whether it is set. Pure, so a test can show no secret survives it.
 */
export function redactConfig(config: ControllerConfig) {
  return {
    ...config,
    redis: { ...config.redis, url: withoutUserInfo(config.redis.url) },
    tokens: config.tokens.map((t) => ({ name: t.name, role: t.role })),
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
            apiUrl: withoutUserInfo(r.forge.apiUrl),
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
  };
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}
