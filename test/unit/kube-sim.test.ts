/** The simulator's pure parts: selectors, patches, scale-down order, the store's watch window. */
import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from '../kube-sim/patch.js';
import { scaleDownVictims } from '../kube-sim/pod-ranking.js';
import { findResource } from '../kube-sim/resources.js';
import {
  formatSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../kube-sim/selectors.js';
import { StatusError } from '../kube-sim/status.js';
import { Store } from '../kube-sim/store.js';
import type { KObject, Pod } from '../kube-sim/types.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', env: 'dev' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=api', false],
    ['app!=api', true],
    ['missing!=x', true],
    ['tier in (front,back)', true],
    ['tier in (back)', false],
    ['tier notin (back)', true],
    ['missing notin (x)', true],
    ['env', true],
    ['!env', false],
    ['!missing', true],
    ['app=web,tier in (front, back),env,!missing', true],
    ['app=web,env=prod', false],
  ];
  it.each(cases)('%j matches: %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('rejects a malformed selector with a 400 Status', () => {
    expect(() => parseLabelSelector('tier in (a')).toThrow(StatusError);
    expect(() => parseLabelSelector('a=b=c')).toThrow(/unable to parse/);
  });

  it('formats a LabelSelector object as the string form', () => {
    expect(
      formatSelector({
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }],
      }),
    ).toBe('app=web,tier in (a,b)');
  });

  it('field selectors compare dotted paths as strings', () => {
    const obj: KObject = { metadata: { name: 'x' }, status: { phase: 'Running' } };
    expect(matchesFields(parseFieldSelector('metadata.name=x,status.phase!=Pending'), obj)).toBe(
      true,
    );
    expect(matchesFields(parseFieldSelector('metadata.name==y'), obj)).toBe(false);
    expect(matchesFields(parseFieldSelector('spec.nodeName='), obj)).toBe(true);
  });
});

describe('patches', () => {
  const doc = {
    metadata: { labels: { a: '1', b: '2' } },
    spec: {
      replicas: 1,
      containers: [
        { name: 'app', image: 'one' },
        { name: 'side', image: 'two' },
      ],
    },
  };

  it('merge patch merges objects, removes with null and replaces lists', () => {
    expect(
      mergePatch(doc, {
        metadata: { labels: { a: null, c: '3' } },
        spec: { containers: [{ name: 'app', image: 'new' }] },
      }),
    ).toEqual({
      metadata: { labels: { b: '2', c: '3' } },
      spec: { replicas: 1, containers: [{ name: 'app', image: 'new' }] },
    });
  });

  it('strategic merge patch merges containers by name and honours $patch: delete', () => {
    const out = strategicMergePatch(doc, {
      spec: {
        containers: [
          { name: 'app', image: 'new' },
          { name: 'side', $patch: 'delete' },
        ],
      },
    });
    expect(out).toEqual({
      ...doc,
      spec: { replicas: 1, containers: [{ name: 'app', image: 'new' }] },
    });
  });

  it('JSON patch applies add, replace, remove, test, and fails a test as 422', () => {
    const out = jsonPatch(doc, [
      { op: 'test', path: '/spec/replicas', value: 1 },
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/metadata/labels/x~1y', value: 'z' },
      { op: 'remove', path: '/spec/containers/1' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'last', image: 'three' } },
    ]) as typeof doc;
    expect(out.spec.replicas).toBe(3);
    expect(out.metadata.labels).toEqual({ a: '1', b: '2', 'x/y': 'z' });
    expect(out.spec.containers.map((c) => c.name)).toEqual(['app', 'last']);
    expect(doc.spec.replicas).toBe(1);
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/spec/replicas', value: 2 }])).toThrow(
      expect.objectContaining({ code: 422 }),
    );
  });
});

describe('scale-down order (ActivePodsWithRanks)', () => {
  function pod(
    name: string,
    o: {
      phase?: string;
      ready?: boolean;
      cost?: number;
      created?: number;
      readySince?: number;
      restarts?: number;
    },
  ): Pod {
    return {
      metadata: {
        name,
        creationTimestamp: new Date(o.created ?? 0).toISOString(),
        ...(o.cost === undefined
          ? {}
          : { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(o.cost) } }),
      },
      spec: { nodeName: 'n', containers: [] },
      status: {
        phase: (o.phase ?? 'Running') as 'Running',
        conditions: [
          {
            type: 'Ready',
            status: o.ready === false ? 'False' : 'True',
            lastProbeTime: null,
            lastTransitionTime: new Date(o.readySince ?? 0).toISOString(),
          },
        ],
        containerStatuses: [
          {
            name: 'c',
            image: 'i',
            imageID: '',
            ready: o.ready !== false,
            restartCount: o.restarts ?? 0,
            state: {},
            lastState: {},
          },
        ],
      },
    };
  }
  const cases: [string, Pod[], string][] = [
    [
      'pending before running',
      [pod('run', {}), pod('pend', { phase: 'Pending', ready: false })],
      'pend',
    ],
    [
      'not ready before ready, whatever the cost',
      [pod('ready', { cost: -100 }), pod('unready', { ready: false, cost: 100 })],
      'unready',
    ],
    [
      'lower deletion cost first',
      [pod('new', { created: 9, cost: 5 }), pod('old', { created: 1, cost: -5 })],
      'old',
    ],
    [
      'ready for less time first',
      [pod('long', { readySince: 1000 }), pod('short', { readySince: 9000 })],
      'short',
    ],
    ['more restarts first', [pod('calm', { restarts: 0 }), pod('flaky', { restarts: 4 })], 'flaky'],
    ['newer first', [pod('old', { created: 1000 }), pod('new', { created: 9000 })], 'new'],
  ];
  it.each(cases)('%s', (_name, pods, victim) => {
    expect(scaleDownVictims(pods, 1).map((p) => p.metadata.name)).toEqual([victim]);
  });
});

describe('the store', () => {
  const secrets = findResource('', 'secrets')!;

  it('versions every change globally and bumps generation on spec changes only', () => {
    const store = new Store();
    const a = store.create(secrets, 'ns', { metadata: { name: 'a' } });
    const rs = findResource('apps', 'replicasets')!;
    const r = store.create(rs, 'ns', { metadata: { name: 'r' }, spec: { replicas: 1 } });
    expect(Number(r.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(r.metadata.generation).toBe(1);
    const s = store.update(rs, 'ns', { ...r, status: { replicas: 1 } });
    expect(s.metadata.generation).toBe(1);
    const g = store.update(rs, 'ns', { ...s, spec: { replicas: 2 } });
    expect(g.metadata.generation).toBe(2);
    expect(store.update(rs, 'ns', g).metadata.resourceVersion).toBe(g.metadata.resourceVersion);
  });

  it('answers 410 Expired for history it no longer keeps', () => {
    const store = new Store();
    const start = store.resourceVersion;
    store.create(secrets, 'ns', { metadata: { name: 'a' } });
    const mid = store.resourceVersion;
    store.create(secrets, 'ns', { metadata: { name: 'b' } });
    expect(store.changesSince(start).map((c) => c.object.metadata.name)).toEqual(['a', 'b']);
    store.expireBefore(mid);
    expect(() => store.changesSince(start)).toThrow(
      expect.objectContaining({ code: 410, reason: 'Expired' }),
    );
    expect(store.changesSince(mid).map((c) => c.object.metadata.name)).toEqual(['b']);
    const before = store.resourceVersion;
    store.compact();
    expect(() => store.changesSince(before)).toThrow(/too old resource version/);
    // What a list returns after the compaction can be watched from.
    const relisted = store.resourceVersion;
    expect(relisted).toBeGreaterThan(before);
    store.create(secrets, 'ns', { metadata: { name: 'c' } });
    expect(store.changesSince(relisted).map((c) => c.object.metadata.name)).toEqual(['c']);
  });

  it('delivers changes made by listeners after the change that caused them', () => {
    const store = new Store();
    const order: string[] = [];
    store.subscribe((c) => {
      if (c.object.metadata.name === 'a') store.create(secrets, 'ns', { metadata: { name: 'b' } });
    });
    store.subscribe((c) => order.push(`${c.object.metadata.name}@${c.rv}`));
    store.create(secrets, 'ns', { metadata: { name: 'a' } });
    expect(order.map((o) => o.split('@')[0])).toEqual(['a', 'b']);
    const rvs = order.map((o) => Number(o.split('@')[1]));
    expect(rvs[0]).toBeLessThan(rvs[1]!);
  });
});
