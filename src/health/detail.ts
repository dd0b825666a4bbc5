/**
 * Probe evidence as short sentences ("GET /healthz → 503 after 12 ms"): they end up in rollout
 * records and the UI, where a person decides from them what went wrong. Pure.
 */

/** `GET /healthz → 200 after 3 ms`, or with `(expected 200)` when the status is wrong. */
export function httpDetail(path: string, status: number, expect: number, ms: number): string {
  const base = `GET ${path} → ${status} after ${ms} ms`;
  return status === expect ? base : `${base} (expected ${expect})`;
}

/** The last non-empty line of a command's output, trimmed to stay a one-liner. */
export function lastLine(output: string, max = 200): string {
  const lines = output.split('\n').map((l) => l.replace(/\r$/, '').trim());
  const last = [...lines].reverse().find((l) => l.length > 0) ?? '';
  return last.length > max ? `${last.slice(0, max - 1)}…` : last;
}

/** `exit 0`, or `exit 1: <last output line>`. */
export function execDetail(exitCode: number, output: string): string {
  const line = lastLine(output);
  return line === '' ? `exit ${exitCode}` : `exit ${exitCode}: ${line}`;
}

/**
 * The most telling words of a network failure. Node wraps socket errors (`fetch failed`); the
 * errno code of a cause (`ECONNREFUSED`) is what a person recognises, else the innermost message
 * (`other side closed`).
 */
export function networkReason(e: unknown): string {
  let innermost = e;
  for (
    let err: unknown = e, depth = 0;
    depth < 5 && typeof err === 'object' && err !== null;
    depth++
  ) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    innermost = err;
    err = (err as { cause?: unknown }).cause;
  }
  const message = innermost instanceof Error ? innermost.message : String(innermost);
  return message.length > 200 ? `${message.slice(0, 199)}…` : message;
}
