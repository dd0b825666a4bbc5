/**
 * Outgoing HTTP requests of the reporters (forge APIs, notification receivers). Builders elsewhere
 * return an `OutgoingRequest` as plain data; `send` is the one executor: a timeout per attempt, a
 * few retries with backoff on what may pass (network errors, timeouts, 429, 5xx), and nothing
 * else. Errors never carry the request's headers, which hold tokens.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GantryError, errorMessage } from '../errors.js';

/** An HTTP request as data; `body` is the exact bytes sent (signatures are computed over them). */
export interface OutgoingRequest {
  readonly method: 'POST' | 'GET' | 'PATCH';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
}

/** What came back: the status and the body parsed as JSON when it is JSON. */
export interface OutgoingResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface SendOptions {
  /** Per attempt (default 5 s). */
  readonly timeoutMs?: number;
  /** Attempts in all (default 3). */
  readonly attempts?: number;
  /** First backoff (doubles each retry; default 250 ms). */
  readonly backoffMs?: number;
  /** Aborts waiting and in-flight attempts (the reporter stopping). */
  readonly signal?: AbortSignal | undefined;
}

/** Sends `req`; resolves with a 2xx response or throws GANTRY_ERR_REPORT_FAILED. */
export async function send(
  req: OutgoingRequest,
  opts: SendOptions = {},
): Promise<OutgoingResponse> {
  const attempts = Math.max(1, opts.attempts ?? 3);
  let backoff = opts.backoffMs ?? 250;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (opts.signal?.aborted) break;
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 5000);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    let retryable: boolean;
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body === undefined ? {} : { body: req.body }),
        signal,
        redirect: 'error',
      });
      const text = await res.text();
      if (res.ok) return { status: res.status, body: parseJson(text) };
      last = `HTTP ${res.status}: ${text.slice(0, 200)}`;
      retryable = res.status === 429 || res.status >= 500;
    } catch (e) {
      last = timeout.aborted ? `no answer within ${opts.timeoutMs ?? 5000} ms` : errorMessage(e);
      retryable = true;
    }
    if (!retryable || attempt === attempts) break;
    await sleep(backoff, undefined, { signal: opts.signal }).catch(() => undefined);
    backoff *= 2;
  }
  throw new GantryError('GANTRY_ERR_REPORT_FAILED', `${req.method} ${safeUrl(req.url)}: ${last}`, {
    details: { url: safeUrl(req.url) },
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The URL without query or credentials (Slack-style webhook URLs carry a secret in the path, kept out too). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.split('/').slice(0, 3).join('/')}…`;
  } catch {
    return '(invalid url)';
  }
}
