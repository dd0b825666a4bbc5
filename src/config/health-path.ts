/**
 * A health check's HTTP path must name a path of the app. On Kubernetes it is appended to the
 * API server's pod proxy (`…/pods/<pod>:<port>/proxy<path>`) and sent with the controller's
 * credentials: a `..` segment, or one hidden as `%2e%2e` or behind `%2f`, would be resolved by
 * the API server into another API path, so such paths are refused where the spec is read.
 */
import type { PathSegment } from './yaml-source.js';

/** Percent-encodings of ".", "/", "\" and "%" itself (double encoding), in either case. */
const ENCODED_SEPARATOR = /%(2e|2f|5c|25)/i;

/** Why `path` could leave the pod proxy, or undefined when it cannot. Pure. */
export function healthPathProblem(path: string): string | undefined {
  const pathPart = path.split(/[?#]/, 1)[0] ?? '';
  if (pathPart.includes('\\')) return 'must not contain "\\"';
  if (ENCODED_SEPARATOR.test(pathPart)) {
    return 'must not contain percent-encoded ".", "/", "\\" or "%" (%2e, %2f, %5c, %25)';
  }
  if (pathPart.split('/').some((s) => s === '..' || s === '.')) {
    return 'must not contain "." or ".." segments (the check must stay on the app)';
  }
  return undefined;
}

/** Where health checks sit in a spec: top level and per process (environments override no check). */
function healthAt(data: unknown): Array<[health: unknown, at: PathSegment[]]> {
  const out: Array<[unknown, PathSegment[]]> = [[field(data, 'health'), ['health']]];
  const processes = field(data, 'processes');
  if (isRecord(processes)) {
    for (const [name, p] of Object.entries(processes))
      out.push([field(p, 'health'), ['processes', name, 'health']]);
  }
  return out;
}

/** Problems of every `health.http.path` of a (possibly schema-invalid) spec, at their paths. */
export function healthPathIssues(
  data: unknown,
): Array<{ readonly path: PathSegment[]; readonly predicate: string }> {
  return healthAt(data).flatMap(([health, at]) => {
    const path = field(field(health, 'http'), 'path');
    const problem = typeof path === 'string' ? healthPathProblem(path) : undefined;
    return problem === undefined ? [] : [{ path: [...at, 'http', 'path'], predicate: problem }];
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(v: unknown, key: string): unknown {
  return isRecord(v) ? v[key] : undefined;
}
