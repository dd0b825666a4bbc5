import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { resolveTargetName } from '../../src/config/spec-targets.js';
import { targetsOf } from '../../src/config/targets-config.js';
import { Targets, onTarget, type Target } from '../../src/deploy/targets.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { Edge } from '../../src/edge/edge.js';

const config = (...lines: string[]) =>
  parseControllerConfig(['repos: []', ...lines].join('\n'), { env: {} });

const SOCK = 'unix:///var/run/docker.sock';

describe('targets in the controller config', () => {
  it.each([
    {
      name: 'no runtime and no targets: one Docker target, local',
      lines: [],
      plan: {
        targets: [{ name: 'local', kind: 'docker', hosts: [{ name: 'local', endpoint: SOCK }] }],
        defaultTarget: 'local',
      },
    },
    {
      name: 'the one-target runtime form on Kubernetes',
      lines: ['runtime: { kind: kubernetes, namespace: apps, context: prod }'],
      plan: {
        targets: [
          {
            name: 'local',
            kind: 'kubernetes',
            namespace: 'apps',
            inCluster: false,
            kubeconfig: undefined,
            context: 'prod',
            drainMs: 2000,
          },
        ],
        defaultTarget: 'local',
      },
    },
    {
      name: 'named targets, the first the default',
      lines: [
        'targets:',
        `  hosts: { docker: { hosts: [{ name: a, endpoint: "${SOCK}" }] } }`,
        '  prod: { kubernetes: { namespace: shop, kubeconfig: /k.yaml, drainMs: 10 } }',
      ],
      plan: {
        targets: [
          { name: 'hosts', kind: 'docker', hosts: [{ name: 'a', endpoint: SOCK }] },
          {
            name: 'prod',
            kind: 'kubernetes',
            namespace: 'shop',
            inCluster: false,
            kubeconfig: '/k.yaml',
            context: undefined,
            drainMs: 10,
          },
        ],
        defaultTarget: 'hosts',
      },
    },
  ])('$name', ({ lines, plan }) => {
    expect(targetsOf(config(...lines))).toEqual(plan);
  });

  it.each([
    {
      name: 'both runtime and targets',
      lines: ['runtime: {}', 'targets:', '  a: { kubernetes: { namespace: x } }'],
      error: /:3:1: targets and runtime are both set/,
    },
    {
      name: 'a target that is both kinds',
      lines: ['targets:', `  a: { kubernetes: { namespace: x }, docker: { hosts: [] } }`],
      error: /targets\.a must be exactly one of docker/,
    },
    {
      name: 'a Docker target without hosts',
      lines: ['targets:', '  a: { docker: {} }'],
      error: /targets\.a\.docker/,
    },
    {
      name: 'a target name that is not a DNS label',
      lines: ['targets:', '  Prod: { kubernetes: { namespace: x } }'],
      error: /targets/,
    },
  ])('refuses $name', ({ lines, error }) => {
    expect(() => config(...lines)).toThrow(error);
  });

  it('refuses a defaultTarget that is not a target', () => {
    const c = config('targets:', '  a: { kubernetes: { namespace: x } }', 'defaultTarget: b');
    expect(() => targetsOf(c)).toThrow(/defaultTarget b is not one of targets \(a\)/);
  });

  it('refuses a Kubernetes runtime without a namespace', () => {
    expect(() => targetsOf(config('runtime: { kind: kubernetes }'))).toThrow(/runtime.namespace/);
  });
});

describe("gantry.yaml's target against the controller's targets", () => {
  const known = { names: ['staging-hosts', 'prod-k8s'], defaultTarget: 'staging-hosts' };

  it.each([
    { name: 'a known target', target: 'prod-k8s', resolved: 'prod-k8s' },
    { name: 'none: the default', target: undefined, resolved: 'staging-hosts' },
    {
      name: 'local, which no target is named: the default',
      target: 'local',
      resolved: 'staging-hosts',
    },
    { name: 'an unknown name', target: 'edge-1', resolved: undefined },
  ])('$name', ({ target, resolved }) => {
    expect(resolveTargetName(known, target)).toBe(resolved);
  });

  it('prefers a target that is really named local', () => {
    expect(resolveTargetName({ names: ['a', 'local'], defaultTarget: 'a' }, 'local')).toBe('local');
  });

  it('refuses an unknown target at its file:line:col, listing the known ones', () => {
    const text = [
      'app: shop',
      'environments:',
      '  staging: { branch: develop, target: staging-hosts }',
      '  production:',
      '    branch: main',
      '    target: prod-k8z',
    ].join('\n');
    expect(() => parseAppSpec(text, 'shop/gantry.yaml', { targets: known })).toThrow(
      'shop/gantry.yaml:6:13: environments.production.target names target "prod-k8z", which this controller does not have (its targets: staging-hosts, prod-k8s)',
    );
    // Without the controller's targets (a schema check alone), any name passes.
    expect(parseAppSpec(text).environments.production?.target).toBe('prod-k8z');
  });

  it('accepts a spec that names no target', () => {
    const spec = parseAppSpec('app: shop\n', 'gantry.yaml', { targets: known });
    expect(
      new Targets(fakeTargets(known.names), known.defaultTarget).forSpec(spec, 'production').name,
    ).toBe('staging-hosts');
  });

  it('resolves every name to a known target or to nothing (property)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 5 }), name, (names, wanted) => {
        const k = { names, defaultTarget: names[0]! };
        const r = resolveTargetName(k, wanted);
        if (names.includes(wanted)) expect(r).toBe(wanted);
        else if (wanted === 'local') expect(r).toBe(names[0]);
        else expect(r).toBeUndefined();
      }),
    );
  });
});

describe('the target set', () => {
  const set = new Targets(fakeTargets(['docker', 'kube']), 'docker');

  it('finds an environment on the target its state names, else the default', () => {
    expect(set.ofState({ target: 'kube' }).name).toBe('kube');
    expect(set.ofState({}).name).toBe('docker');
  });

  it('says which target a name that is gone was', () => {
    expect(() => set.get('old')).toThrow(
      /target old is not one of this controller's targets \(docker, kube\)/,
    );
  });

  it('refuses a default that is not a target', () => {
    expect(() => new Targets(fakeTargets(['a']), 'b')).toThrow(/default target b/);
  });

  it('swaps runtime, edge and route picker, and nothing else', async () => {
    const kube = set.get('kube');
    const deps = {
      runtime: set.get('docker').runtime,
      edge: set.get('docker').edge,
      routeFor: set.get('docker').routeFor,
      tickMs: 5,
    };
    const moved = onTarget(deps, kube);
    expect(moved.runtime).toBe(kube.runtime);
    expect(moved.edge).toBe(kube.edge);
    expect(moved.tickMs).toBe(5);
    await expect(moved.routeFor('a', 'b', parseAppSpec('app: a\n'))).resolves.toMatchObject({
      id: 'kube',
    });
  });
});

/** Targets whose runtime and edge are only identities: the set never calls them. */
function fakeTargets(names: readonly string[]): Target[] {
  return names.map((name) => ({
    name,
    kind: 'docker',
    runtime: { hosts: () => [name] } as unknown as Runtime,
    edge: {} as Edge,
    routeFor: async () => ({ id: name, listen: { host: '127.0.0.1', port: 1 } }),
  }));
}
