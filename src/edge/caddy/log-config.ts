/**
 * The custom log each tier writes its access log to (pure). Why logs and not Caddy's Prometheus
 * `/metrics`: in 2.6 `caddy_http_request_duration_seconds{server,code}` is per server only, has
 * no per-upstream series (only `caddy_reverse_proxy_upstreams_healthy`), and is a counter since
 * process start that a config reload does not window. The access log has the status, a
 * timestamp and the logger name (= route) of every request, so counts for any window — and, in
 * the back tier, per upstream via the `upstream` field (back-config.ts `UPSTREAM_TO_LOG`) — fall
 * out of it.
 */
import { ACCESS_LOG_NAMESPACE, UPSTREAM_LOG_FIELD, type Tier } from './names.js';
import type { JsonObject } from './json.js';

/** The access log of one tier: file, JSON lines, and the fields dropped before they reach disk. */
export function accessLogConfig(file: string, tier: Tier): JsonObject {
  // No request headers (cookies, Authorization, tokens) and no response headers (an app's
  // Set-Cookie, redirects with codes in them) reach disk, in either tier. Caddy 2.6's filter
  // encoder matches exact field paths only, so "every header but one" cannot be said: the
  // upstream comes in `user_id` instead (see UPSTREAM_TO_LOG), renamed for what it holds.
  const drop: JsonObject = {
    'request>headers': { filter: 'delete' },
    resp_headers: { filter: 'delete' },
    user_id:
      tier === 'back' ? { filter: 'rename', name: UPSTREAM_LOG_FIELD } : { filter: 'delete' },
  };
  return {
    writer: { output: 'file', filename: file, roll_size_mb: 50, roll_keep: 3 },
    encoder: { format: 'filter', wrap: { format: 'json' }, fields: drop },
    level: 'INFO',
    include: [ACCESS_LOG_NAMESPACE],
  };
}
