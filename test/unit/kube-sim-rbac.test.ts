import { describe, expect, it } from 'vitest';
import { Rbac, verbOf } from '../kube-sim/rbac.js';

describe("the simulator's RBAC", () => {
  it.each([
    ['GET', false, false, 'list'],
    ['GET', false, true, 'watch'],
    ['POST', false, false, 'create'],
    ['DELETE', false, false, 'deletecollection'],
    ['GET', true, false, 'get'],
    ['PUT', true, false, 'update'],
    ['PATCH', true, false, 'patch'],
    ['DELETE', true, false, 'delete'],
  ])('%s (named %s, watch %s) is the verb %s', (method, named, watch, verb) => {
    expect(verbOf(method, named, watch)).toBe(verb);
  });

  const rbac = new Rbac(
    [
      { apiGroup: 'apps', resource: 'replicasets', verbs: ['get', 'patch'] },
      { apiGroup: '', resource: 'pods/proxy', verbs: ['get'] },
    ],
    'system:serviceaccount:ns:gantry',
  );

  it('allows what a rule grants, and records it', () => {
    rbac.check({ apiGroup: 'apps', resource: 'replicasets', verb: 'patch', namespace: 'ns' });
    rbac.check({ apiGroup: '', resource: 'pods/proxy', verb: 'get', namespace: 'ns' });
    expect(rbac.allowed()).toEqual(['apps/replicasets:patch', 'core/pods/proxy:get']);
  });

  it.each([
    ['another verb', { apiGroup: 'apps', resource: 'replicasets', verb: 'delete' }],
    ['another group', { apiGroup: '', resource: 'replicasets', verb: 'get' }],
    ['the resource without its subresource', { apiGroup: '', resource: 'pods', verb: 'get' }],
  ])('refuses %s with 403 Forbidden in the API server words', (_what, a) => {
    expect(() => rbac.check({ ...a, namespace: 'ns' })).toThrow(
      /is forbidden: User "system:serviceaccount:ns:gantry" cannot/,
    );
  });

  it('records what it refused', () => {
    expect(rbac.denied()).toEqual([
      'apps/replicasets:delete',
      'core/pods:get',
      'core/replicasets:get',
    ]);
  });
});
