/** The resource kinds the simulator serves, as the discovery documents and URLs name them. */

export interface ResourceDef {
  readonly plural: string;
  readonly kind: string;
  /** '' is the core group (`/api/v1`). */
  readonly group: '' | 'apps';
  readonly version: 'v1';
  readonly namespaced: boolean;
  /** Has a `/status` subresource: the main resource's writes keep `status`, and vice versa. */
  readonly statusSubresource: boolean;
  readonly shortNames?: readonly string[];
  readonly subresources?: readonly string[];
}

export const RESOURCES: readonly ResourceDef[] = [
  {
    plural: 'namespaces',
    kind: 'Namespace',
    group: '',
    version: 'v1',
    namespaced: false,
    statusSubresource: true,
    shortNames: ['ns'],
  },
  {
    plural: 'pods',
    kind: 'Pod',
    group: '',
    version: 'v1',
    namespaced: true,
    statusSubresource: true,
    shortNames: ['po'],
    subresources: ['status', 'log', 'proxy'],
  },
  {
    plural: 'services',
    kind: 'Service',
    group: '',
    version: 'v1',
    namespaced: true,
    statusSubresource: true,
    shortNames: ['svc'],
    subresources: ['status', 'proxy'],
  },
  {
    plural: 'secrets',
    kind: 'Secret',
    group: '',
    version: 'v1',
    namespaced: true,
    statusSubresource: false,
  },
  {
    plural: 'configmaps',
    kind: 'ConfigMap',
    group: '',
    version: 'v1',
    namespaced: true,
    statusSubresource: false,
    shortNames: ['cm'],
  },
  {
    plural: 'events',
    kind: 'Event',
    group: '',
    version: 'v1',
    namespaced: true,
    statusSubresource: false,
    shortNames: ['ev'],
  },
  {
    plural: 'replicasets',
    kind: 'ReplicaSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    statusSubresource: true,
    shortNames: ['rs'],
    subresources: ['status', 'scale'],
  },
];

/** `apiVersion` as objects of this resource carry it: `v1` or `apps/v1`. */
export function apiVersionOf(def: ResourceDef): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}

/** `replicasets.apps` / `pods`: how the API server names a resource in its messages. */
export function qualifiedName(def: ResourceDef): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

/** The resource served at this group and plural, if any. */
export function findResource(group: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.plural === plural);
}

/** The resource of a kind, for owner references and events. */
export function resourceOfKind(kind: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.kind === kind);
}
