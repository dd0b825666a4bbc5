/**
 * Health checks through the API server's pod proxy, and who a failure belongs to. A probe that
 * could not reach the API server (restarting, refused, reset, its own 5xx) says nothing about the
 * pod: it rejects with GANTRY_ERR_KUBERNETES_UNAVAILABLE, which the prober counts as no verdict,
 * as it does an unreachable Docker engine. The pod's own answer, and the API server's report that
 * it could not reach the pod ("error trying to reach service: … connection refused"), are verdicts.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { healthPathProblem } from '../../config/health-path.js';
import { GantryError } from '../../errors.js';
import { proxyFailure, rawGet } from './kube-client.js';

/** What a proxied GET came to: the pod's status, the pod unreachable, or the API server away. */
export type ProxyOutcome =
  | { readonly kind: 'answer'; readonly status: number }
  | { readonly kind: 'pod-failed'; readonly reason: string }
  | { readonly kind: 'api-unavailable'; readonly reason: string };

/**
 * How long a check may take to reach the API server (TCP + TLS) before it counts as away: a
 * loaded API server's handshake can take longer than an app's health timeout, and that time is
 * not the app's.
 */
const CONNECT_TIMEOUT_MS = 5_000;

/** Transport errors meaning the API server (not the pod behind it) was not reached. */
const API_TRANSPORT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

/** The API server's messages about the pod behind the proxy, not about itself (apimachinery proxy/transport.go, pod/rest). */
const POD_SIDE = /error trying to reach service|does not have a host assigned|address not allowed/i;

/** Classifies a proxied answer (`proxyFailure` pulls the API server's Status message out). */
export function classifyProxyAnswer(res: {
  status: number;
  body: string;
  contentType: string;
}): ProxyOutcome {
  const failure = proxyFailure(res);
  if (failure === undefined || (res.status < 500 && res.status !== 429)) {
    return { kind: 'answer', status: res.status };
  }
  if (POD_SIDE.test(failure)) return { kind: 'pod-failed', reason: failure };
  // "apiserver is shutting down", etcd timeouts, throttling: the API server's own trouble.
  return { kind: 'api-unavailable', reason: `${res.status}: ${failure}` };
}

/**
 * Classifies a request that got no answer: refused or reset connections, and a timeout before the
 * API server took the connection, are the API server away; a timeout after it is the pod's.
 */
export function classifyProxyError(e: unknown): ProxyOutcome | undefined {
  const err = e as { name?: unknown; code?: unknown; connected?: unknown; message?: unknown };
  if (err?.name === 'TimeoutError') {
    return err.connected === false
      ? { kind: 'api-unavailable', reason: 'no connection to the API server' }
      : undefined;
  }
  if (typeof err?.code === 'string' && API_TRANSPORT_CODES.has(err.code)) {
    return { kind: 'api-unavailable', reason: `${err.code} from the API server` };
  }
  return undefined;
}

/** GET `path` on the pod's port through the API server; see the module comment for the errors. */
export async function podProxyGet(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  port: string,
  path: string,
  timeoutMs: number,
  connectTimeoutMs = Math.max(timeoutMs, CONNECT_TIMEOUT_MS),
): Promise<{ status: number }> {
  const rel = path.startsWith('/') ? path : `/${path}`;
  // The spec refuses such paths; a spec stored before that rule must not reach the API either.
  const problem = healthPathProblem(rel);
  if (problem !== undefined) {
    throw new GantryError('GANTRY_ERR_SPEC_INVALID', `health check path ${rel} ${problem}`);
  }
  let outcome: ProxyOutcome;
  try {
    const res = await rawGet(
      kc,
      `/api/v1/namespaces/${namespace}/pods/${pod}:${port}/proxy${rel}`,
      timeoutMs,
      { connectTimeoutMs },
    );
    outcome = classifyProxyAnswer(res);
  } catch (e) {
    const classified = classifyProxyError(e);
    if (classified === undefined) throw e;
    outcome = classified;
  }
  switch (outcome.kind) {
    case 'answer':
      return { status: outcome.status };
    case 'pod-failed':
      throw new Error(`pod proxy: ${outcome.reason}`);
    case 'api-unavailable':
      throw new GantryError(
        'GANTRY_ERR_KUBERNETES_UNAVAILABLE',
        `health check of pod ${pod} not made: ${outcome.reason}`,
      );
  }
}
