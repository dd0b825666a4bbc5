/**
 * The custom log each tier writes its access log to (pure). Why logs and not Caddy's Prometheus
 * `/metrics`: in 2.6 `caddy_http_request_duration_seconds{server,code}` is per server only, has
 * no per-upstream series (only `caddy_reverse_proxy_upstreams_healthy`), and is a counter since
 * process start that a config reload does not window. The access log has the status, a
 * timestamp and the logger name (= route) of every request, so counts for any window — and, in
 * the back tier, per upstream via the `X-Gantry-Upstream` response header — fall out of it.
 */
import { ACCESS_LOG_NAMESPACE, type Tier } from './names.js';
import type { JsonObject } from './json.js';

/**
 * Response headers the back tier's log drops by name, in Go's canonical spelling (how Caddy keys
 * them). Caddy 2.6's filter encoder matches exact field paths only, so "every header but
 * X-Gantry-Upstream" cannot be said; these are the ones that carry credentials or session state.
 * Caddy 2.6 already logs Set-Cookie and Authorization with empty values (`log_credentials` off);
 * deleting them here keeps that true if the default ever changes.
 */
export const DROPPED_RESPONSE_HEADERS = [
  'Set-Cookie',
  'Set-Cookie2',
  'Authorization',
  'Proxy-Authorization',
  'Www-Authenticate',
  'Proxy-Authenticate',
  // Redirects and links may carry tokens in their query (OAuth codes, signed URLs).
  'Location',
  'Content-Location',
  'Refresh',
  'Link',
  'X-Api-Key',
  'X-Auth-Token',
  'X-Access-Token',
  'X-Csrf-Token',
  'X-Xsrf-Token',
  'X-Amz-Security-Token',
] as const;

/** The access log of one tier: file, JSON lines, and the fields dropped before they reach disk. */
export function accessLogConfig(file: string, tier: Tier): JsonObject {
  // Request headers (cookies, Authorization, tokens, user agents) are not ours to keep, in either
  // tier. The front has no use for response headers; the back keeps them only for the upstream
  // header, minus every one that may carry a credential.
  const drop: JsonObject = { 'request>headers': { filter: 'delete' } };
  if (tier === 'front') drop.resp_headers = { filter: 'delete' };
  else for (const h of DROPPED_RESPONSE_HEADERS) drop[`resp_headers>${h}`] = { filter: 'delete' };
  return {
    writer: { output: 'file', filename: file, roll_size_mb: 50, roll_keep: 3 },
    encoder: { format: 'filter', wrap: { format: 'json' }, fields: drop },
    level: 'INFO',
    include: [ACCESS_LOG_NAMESPACE],
  };
}
