// The controller's API as the dashboard calls it. The token lives in sessionStorage (gone with the
// tab) and travels only in the Authorization header: never a cookie, never a URL, so another site
// cannot make the browser act with it.

const KEY = 'gantry.token';

export function getToken() {
  return sessionStorage.getItem(KEY);
}

export function setToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/** An API answer that was not 2xx: its status, the catalogue code and the server's message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Headers every request carries. */
export function authHeaders(extra = {}) {
  const token = getToken();
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

/** Where a 401 sends the user; the router installs it. */
let onUnauthorized = () => {};
export function handleUnauthorized(fn) {
  onUnauthorized = fn;
}

/**
 * Calls the API and returns its JSON. A 401 forgets the token and returns to the login; other
 * errors are thrown as ApiError for the page to show (a 404 often means an endpoint this
 * controller does not have yet, and pages degrade around it).
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = authHeaders({ accept: 'application/json' });
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    credentials: 'omit',
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    clearToken();
    onUnauthorized();
  }
  if (!res.ok) {
    throw new ApiError(res.status, data.code ?? 'unknown', data.message ?? res.statusText);
  }
  return data;
}

/** Like api(), but a 404 (no such endpoint on this controller) gives `fallback` instead. */
export async function apiOr(path, fallback) {
  try {
    return await api(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return fallback;
    throw e;
  }
}

/** The message to show for a failed action; a 403 says plainly that nothing changed. */
export function actionError(e, action) {
  if (e instanceof ApiError && e.status === 403) {
    const role = /is an? (viewer|deployer|admin)\b/.exec(e.message)?.[1];
    const who = role ? `Your token (${role})` : 'Your token';
    return `${who} cannot ${action}: ${e.message}. Nothing was changed.`;
  }
  if (e instanceof ApiError)
    return `Could not ${action}: ${e.message} (${e.code}, HTTP ${e.status})`;
  return `Could not ${action}: ${e?.message ?? e}`;
}

/** POSTs an action (`body` optional); a failure is thrown with the message of actionError. */
export async function postAction(action, path, body) {
  try {
    return await api(path, { method: 'POST', body });
  } catch (e) {
    throw new Error(actionError(e, action), { cause: e });
  }
}

export const enc = encodeURIComponent;
