/**
 * The Kubernetes API verbs the runtime uses, per resource, in its target namespace. The Helm
 * chart's Role grants exactly these, and a test compares the two: a verb added to the runtime
 * without the chart (or granted without use) fails the suite.
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
  { apiGroup: '', resource: 'pods', verbs: ['get', 'list', 'watch'] },
  { apiGroup: '', resource: 'pods/log', verbs: ['get'] },
  { apiGroup: '', resource: 'pods/proxy', verbs: ['get'] },
  { apiGroup: '', resource: 'services', verbs: ['create', 'get', 'patch'] },
  { apiGroup: '', resource: 'secrets', verbs: ['create', 'get', 'patch'] },
  { apiGroup: '', resource: 'events', verbs: ['list'] },
];
