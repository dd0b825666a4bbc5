/**
 * The Kubernetes API verbs the runtime uses, per resource, in its target namespace. The Helm
 * chart's Role grants exactly these, and a test compares the two: a verb added to the runtime
 * without the chart (or granted without use) fails the suite.
 *
 * Where each is used: replicasets — create/get/patch/delete in replica-sets.ts, list/watch in the
 * watch cache; pods — list/watch (cache), get (stop), patch (claim a pod for a slot, deletion cost,
 * the edge's route label), delete (scale-down of exactly one pod); pods/log get (logs);
 * pods/proxy get (HTTP health checks); services — get/create/patch/delete
 * (src/edge/kubernetes/service-edge.ts), list/watch in the watch cache (a selector edited by hand
 * is seen and wakes the reconciler); secrets — create (secret values), get (a release's Secret is
 * checked: Gantry's labels, its values, its owner), patch (a release's Secret gets its ReplicaSet
 * as owner; the mutable Secret of specs from before releases), delete (a release's Secret left by
 * a ReplicaSet that is gone is made again, so the garbage collector cannot take it from a new
 * one) in secrets.ts; events — list (failure evidence).
 */
export interface RbacRule {
  readonly apiGroup: string;
  readonly resource: string;
  readonly verbs: readonly string[];
}

export const RBAC_RULES: readonly RbacRule[] = [
  {
    apiGroup: 'apps',
    resource: 'replicasets',
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'watch'],
  },
  { apiGroup: '', resource: 'pods', verbs: ['delete', 'get', 'list', 'patch', 'watch'] },
  { apiGroup: '', resource: 'pods/log', verbs: ['get'] },
  { apiGroup: '', resource: 'pods/proxy', verbs: ['get'] },
  {
    apiGroup: '',
    resource: 'services',
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'watch'],
  },
  { apiGroup: '', resource: 'secrets', verbs: ['create', 'delete', 'get', 'patch'] },
  { apiGroup: '', resource: 'events', verbs: ['list'] },
];
