/**
 * RBAC as the API server applies it to a namespaced ServiceAccount, for the verbs the simulator
 * serves: a request by the restricted token is allowed only when a rule grants its verb on its
 * resource (or `resource/subresource`) in its API group; otherwise 403 Forbidden, with the real
 * server's wording. Every decision is recorded so a test can say what the runtime used.
 */
import { StatusError } from './status.js';

export interface RbacRule {
  readonly apiGroup: string;
  readonly resource: string;
  readonly verbs: readonly string[];
}

/** One request as RBAC sees it. */
export interface Access {
  readonly apiGroup: string;
  readonly resource: string;
  readonly verb: string;
  readonly namespace: string | undefined;
}

/** The RBAC verb of a request (kube-apiserver's RequestInfo rules, for what the simulator serves). */
export function verbOf(method: string, named: boolean, watch: boolean): string {
  if (!named) {
    if (method === 'GET') return watch ? 'watch' : 'list';
    if (method === 'POST') return 'create';
    if (method === 'DELETE') return 'deletecollection';
  }
  switch (method) {
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    case 'POST':
      return 'create';
    default:
      return method.toLowerCase();
  }
}

const key = (a: { apiGroup: string; resource: string; verb: string }) =>
  `${a.apiGroup || 'core'}/${a.resource}:${a.verb}`;

/** The rules of one Role, enforced and recorded. */
export class Rbac {
  private readonly used = new Set<string>();
  private readonly refused = new Set<string>();

  constructor(
    private readonly rules: readonly RbacRule[],
    private readonly subject: string,
  ) {}

  /** Throws 403 Forbidden unless a rule grants `a`. */
  check(a: Access): void {
    const ok = this.rules.some(
      (r) => r.apiGroup === a.apiGroup && r.resource === a.resource && r.verbs.includes(a.verb),
    );
    (ok ? this.used : this.refused).add(key(a));
    if (ok) return;
    const [resource, sub] = a.resource.split('/');
    const what = sub ? `resource "${resource}/${sub}"` : `resource "${resource}"`;
    throw new StatusError(
      403,
      'Forbidden',
      `${resource} is forbidden: User "${this.subject}" cannot ${a.verb} ${what} in API group "${a.apiGroup}"${a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope'}`,
    );
  }

  /** `group/resource:verb` of every request the rules allowed, sorted. */
  allowed(): string[] {
    return [...this.used].sort();
  }

  /** `group/resource:verb` of every request the rules refused, sorted. */
  denied(): string[] {
    return [...this.refused].sort();
  }
}
