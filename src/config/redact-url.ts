/**
 * Credentials out of URLs, for anything that shows a URL to a person (the admin config view,
 * config errors, logs). Pure and dependency-free so any layer may use it.
 */

/** What stands in for a redacted query or fragment parameter value. */
export const REDACTED = '***';

/**
 * Names of URL parameters whose values are credentials. The rule is by substring, on the
 * lower-cased, decoded name, so `password`, `redis_password`, `access_token`, `X-Amz-Signature`,
 * `api_key`, `apikey`, `auth`, `sessionid` and `client_secret` all match. Too wide on purpose:
 * hiding a harmless value costs an admin a look at the file; showing a secret cannot be undone.
 */
const SECRET_PARAM = /pass|pwd|secret|token|key|auth|cred|sig|session|cookie|jwt|bearer|code/;

/** Whether a URL parameter named `name` holds a credential (see SECRET_PARAM for the rule). */
export function isSecretParam(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    // A malformed escape: judge the raw name.
  }
  return SECRET_PARAM.test(decoded.toLowerCase());
}

/**
 * A URL with every credential-bearing part removed or masked, otherwise as written:
 * - user info (`user:password@`, or a lone token `ghp_x@`) is removed;
 * - the value of each query or fragment parameter whose name `isSecretParam` is replaced by `***`.
 * Works on text, not `new URL()`, so scheme-less forms (`user:pw@host:5000`), non-special schemes
 * (`tcp://`, `redis://`, `unix://`) and invalid URLs keep their shape. Pure.
 */
export function redactUrl(url: string): string {
  const fragmentAt = url.indexOf('#');
  const beforeFragment = fragmentAt < 0 ? url : url.slice(0, fragmentAt);
  const fragment = fragmentAt < 0 ? undefined : url.slice(fragmentAt + 1);
  const queryAt = beforeFragment.indexOf('?');
  const base = queryAt < 0 ? beforeFragment : beforeFragment.slice(0, queryAt);
  const query = queryAt < 0 ? undefined : beforeFragment.slice(queryAt + 1);
  return (
    withoutUserInfo(base) +
    (query === undefined ? '' : `?${redactParams(query)}`) +
    (fragment === undefined ? '' : `#${redactParams(fragment)}`)
  );
}

/** A URL (or a scheme-less `host` form) without its user info; other text unchanged. */
export function withoutUserInfo(url: string): string {
  // The authority runs to the first `/`, `?` or `#` after the scheme; a password may hold an
  // unescaped `@`, so the user info ends at the *last* `@` inside it (as WHATWG parsers do).
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)@/i.exec(url);
  if (m === null) return url;
  const scheme = m[1] ?? '';
  // Without a scheme, only a whole leading authority counts (`user:pw@host`), not `a b@c`.
  if (scheme === '' && /\s/.test(m[2] ?? '')) return url;
  return scheme + url.slice(m[0].length);
}

function redactParams(params: string): string {
  return params
    .split(/([&;])/)
    .map((part) => {
      if (part === '&' || part === ';') return part;
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      return isSecretParam(part.slice(0, eq)) ? `${part.slice(0, eq)}=${REDACTED}` : part;
    })
    .join('');
}
