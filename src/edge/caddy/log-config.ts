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

export function accessLogConfig(file: string, tier: Tier): JsonObject {
  // Request headers (cookies, tokens, user agents) are not ours to keep; the front has no use for
  // response headers either, the back keeps them for the upstream header.
  const drop: JsonObject = { 'request>headers': { filter: 'delete' } };
  if (tier === 'front') drop.resp_headers = { filter: 'delete' };
  return {
    writer: { output: 'file', filename: file, roll_size_mb: 50, roll_keep: 3 },
    encoder: { format: 'filter', wrap: { format: 'json' }, fields: drop },
    level: 'INFO',
    include: [ACCESS_LOG_NAMESPACE],
  };
}
