/**
 * The environment a helper process (Caddy above all) is started with: only what it needs to run,
 * never the controller's own, which holds GANTRY_* settings, tokens and keys that a child — or
 * anyone who can read its `/proc/<pid>/environ` — has no business seeing.
 */

/** Variables passed through when set: finding programs, a home, locale, time zone, CA bundles. */
export const CHILD_ENV_KEEP = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  // Caddy's ACME client trusts the system's CAs; a host that points elsewhere says so here.
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;

/** A minimal environment from `from` (the kept variables that are set), plus `extra` (pure). */
export function minimalEnv(
  from: NodeJS.ProcessEnv,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of CHILD_ENV_KEEP) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}
