import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { boundedName, envKey, ROUTE_ID_MAX, routeIdOf } from '../../src/config/env-names.js';
import { containerName } from '../../src/runtime/docker/container-spec.js';
import {
  isLabelValue,
  replicaSetName,
  secretName,
  serviceName,
} from '../../src/runtime/kubernetes/names.js';
import { tierSocket } from '../../src/edge/caddy/names.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const NAME = /^(?!.*--)[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * App and environment names as gantry.yaml accepts them, biased towards the shapes that collided
 * under the old `app-env` join: few letters, many dashes, and names long enough to be cut.
 */
const name = fc
  .tuple(
    fc.constantFrom('a', 'b', 's'),
    fc.array(fc.constantFrom('a', 'b', '-', '-', '1'), { maxLength: 62 }),
  )
  .map(([head, rest]) => (head + rest.join('')).replace(/-{2,}/g, '-').replace(/-+$/, ''))
  .filter((n) => NAME.test(n));

const pair = fc.record({ app: name, env: name });
const distinctPairs = fc.tuple(pair, pair).filter(([x, y]) => x.app !== y.app || x.env !== y.env);

/** Every name derived from an app environment, by what it names. */
function derived(p: { app: string; env: string }) {
  return {
    route: routeIdOf(p.app, p.env),
    containerPrefix: containerName({ ...p, slot: '' }),
    container: containerName({ ...p, slot: 'r-1-0' }),
    workerContainer: containerName({ ...p, slot: 'r-1-0', process: 'worker' }),
    workerReplicaSet: replicaSetName(p.app, p.env, SHA, 12, 'worker'),
    workerSecret: secretName(p.app, p.env, 12, 'worker'),
    replicaSet: replicaSetName(p.app, p.env, SHA),
    releaseReplicaSet: replicaSetName(p.app, p.env, SHA, 12),
    secret: secretName(p.app, p.env),
    releaseSecret: secretName(p.app, p.env, 12),
    service: serviceName(routeIdOf(p.app, p.env)),
  };
}

describe('derived names', () => {
  it('never map two different app environments to one name', () => {
    fc.assert(
      fc.property(distinctPairs, ([x, y]) => {
        const a = derived(x);
        const b = derived(y);
        for (const k of Object.keys(a) as (keyof typeof a)[]) expect(a[k]).not.toBe(b[k]);
        // A release's Secret is never another environment's Secret from before releases.
        expect(a.releaseSecret).not.toBe(b.secret);
        // A process type's objects are never another environment's (or process type's).
        for (const w of [a.workerContainer, a.workerReplicaSet, a.workerSecret])
          expect(Object.values(b)).not.toContain(w);
        expect(b.releaseSecret).not.toBe(a.secret);
        // Neither container prefix starts the other: a slot can never make one look like the other.
        expect(a.containerPrefix.startsWith(b.containerPrefix)).toBe(false);
        expect(b.containerPrefix.startsWith(a.containerPrefix)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('fit the runtime and edge limits', () => {
    fc.assert(
      fc.property(pair, (p) => {
        const d = derived(p);
        expect(d.route.length).toBeLessThanOrEqual(ROUTE_ID_MAX);
        expect(isLabelValue(d.route)).toBe(true);
        for (const k8s of [
          d.replicaSet,
          d.releaseReplicaSet,
          d.workerReplicaSet,
          d.secret,
          d.releaseSecret,
          d.workerSecret,
          d.service,
        ])
          expect(k8s).toMatch(DNS_LABEL);
        expect(tierSocket('gantry-gantry', d.route).length - 'unix/'.length).toBeLessThan(108);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    { name: 'the reported collision', x: ['shop-api', 'prod'], y: ['shop', 'api-prod'] },
    { name: 'dash at the split', x: ['a-b', 'c'], y: ['a', 'b-c'] },
    {
      name: 'cut names of one long prefix',
      x: ['a'.repeat(63), 'production'],
      y: ['a'.repeat(63), 'staging'],
    },
  ])('keeps $name apart', ({ x, y }) => {
    const [a, b] = [derived({ app: x[0]!, env: x[1]! }), derived({ app: y[0]!, env: y[1]! })];
    for (const k of Object.keys(a) as (keyof typeof a)[]) expect(a[k]).not.toBe(b[k]);
  });

  it('keeps short names readable and marks cut ones', () => {
    expect(routeIdOf('shop-api', 'prod')).toBe('shop-api--prod');
    expect(envKey('shop', 'api-prod')).toBe('shop--api-prod');
    expect(boundedName('x'.repeat(80), 30)).toMatch(/^x{17}---[0-9a-f]{10}$/);
  });
});

describe('app and environment names in gantry.yaml', () => {
  it.each([
    { name: 'app', text: 'app: shop--api\n', at: 'gantry.yaml:1:6' },
    {
      name: 'environment',
      text: 'app: shop\nenvironments:\n  api--prod: { branch: main }\n',
      at: 'gantry.yaml:3:3',
    },
  ])('refuses "--" in an $name name, with file:line:col', ({ text, at }) => {
    expect(() => parseAppSpec(text)).toThrow(at);
    expect(() => parseAppSpec(text)).toThrow('no "--"');
  });

  it('still takes single dashes', () => {
    expect(parseAppSpec('app: shop-api\n').app).toBe('shop-api');
  });
});
