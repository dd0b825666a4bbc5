/**
 * Remote URLs without their secrets. Pure. Credentials may arrive inside a URL
 * (`https://user:token@host/repo.git`); they are lifted out once, so the URL Gantry carries around,
 * logs and puts in error messages never holds them.
 */

/** Credentials for an HTTPS remote; `password` is usually a token. */
export interface RemoteCredentials {
  readonly username?: string | undefined;
  readonly password: string;
}

/** Removes userinfo from a URL, for messages and logs; leaves non-URLs alone. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    // Not a WHATWG URL (e.g. scp-like `git@host:repo`): drop anything that looks like userinfo.
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
  }
}

/**
 * Splits `user:pass@` out of a URL. Explicit credentials win over ones in the URL; the returned
 * URL never carries any.
 */
export function splitUrlCredentials(
  url: string,
  explicit?: RemoteCredentials,
): { url: string; credentials: RemoteCredentials | undefined } {
  let fromUrl: RemoteCredentials | undefined;
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '') {
      const username = decodeURIComponent(u.username);
      fromUrl = {
        username: username === '' ? undefined : username,
        password: decodeURIComponent(u.password),
      };
    }
  } catch {
    // Left for the git client to reject with its own message.
  }
  return { url: redactUrl(url), credentials: explicit ?? fromUrl };
}
