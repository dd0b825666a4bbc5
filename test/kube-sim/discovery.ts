/** Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/apps/v1`) and `/version`. */
import { RESOURCES } from './resources.js';

/** The Kubernetes version the simulator claims to be. */
export const VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-kube-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.22.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The document served at `path`, if it is a discovery path. */
export function discovery(path: string, serverAddress: string): unknown {
  switch (path) {
    case '/version':
      return VERSION;
    case '/api':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
      };
    case '/apis':
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: 'apps',
            versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
          },
        ],
      };
    case '/api/v1':
      return resourceList('', 'v1');
    case '/apis/apps':
      return {
        kind: 'APIGroup',
        apiVersion: 'v1',
        name: 'apps',
        versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      };
    case '/apis/apps/v1':
      return resourceList('apps', 'apps/v1');
    default:
      return undefined;
  }
}

function resourceList(group: string, groupVersion: string): unknown {
  const resources = RESOURCES.filter((r) => r.group === group).flatMap((r) => [
    {
      name: r.plural,
      singularName: r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    },
    ...(r.subresources ?? []).map((sub) => ({
      name: `${r.plural}/${sub}`,
      singularName: '',
      namespaced: r.namespaced,
      kind: sub === 'scale' ? 'Scale' : r.kind,
      verbs:
        sub === 'log'
          ? ['get']
          : sub === 'proxy'
            ? ['create', 'delete', 'get', 'patch', 'update']
            : ['get', 'patch', 'update'],
      ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}),
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}
