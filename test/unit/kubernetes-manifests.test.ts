import { describe, expect, it } from 'vitest';
import {
  containerEnv,
  ownerReference,
  readinessProbe,
  replicaSetManifest,
  resources,
  secretManifest,
  serviceManifest,
} from '../../src/runtime/kubernetes/manifests.js';
import {
  dnsName,
  formatSlots,
  parseSlots,
  releaseOf,
  replicaSetName,
  secretName,
  selectorOf,
} from '../../src/runtime/kubernetes/names.js';
import type { InstanceSpec } from '../../src/runtime/runtime.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const IMAGE = `127.0.0.1:5000/hello@sha256:${'a'.repeat(64)}`;

function spec(over: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    app: 'hello',
    env: 'production',
    revision: SHA,
    rolloutId: 'r-1',
    slot: 's0',
    image: IMAGE,
    port: 8080,
    vars: { GREETING: 'hi', PORT: '9999' },
    secrets: { API_TOKEN: 'never-in-a-manifest-3f9a' },
    host: 'gantry',
    readiness: { check: { kind: 'http', path: '/healthz' }, intervalMs: 1500, timeoutMs: 800 },
    ...over,
  };
}

describe('Kubernetes names', () => {
  it.each([
    [['gantry', 'hello', 'production'], 'gantry-hello-production'],
    [['gantry', 'Hello_App', 'prod'], /^gantry-hello-app-prod-[0-9a-f]{8}$/],
    [['gantry', 'x'.repeat(80)], /^gantry-x{40,47}-[0-9a-f]{8}$/],
  ] as const)('dnsName(%j) is a DNS-1123 label', (parts, want) => {
    const name = dnsName(...parts);
    if (typeof want === 'string') expect(name).toBe(want);
    else expect(name).toMatch(want);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });

  it('names a ReplicaSet per app, environment and revision', () => {
    expect(replicaSetName('hello', 'production', SHA)).toBe(
      'gantry-hello--production-0123456789ab',
    );
    expect(replicaSetName('hello', 'production', SHA)).not.toBe(
      replicaSetName('hello', 'staging', SHA),
    );
  });

  it.each([
    {
      name: 'before releases: the name it always had',
      release: undefined,
      rs: 'gantry-hello--production-0123456789ab',
      secret: 'gantry-hello--production',
    },
    {
      name: 'release 1',
      release: 1,
      rs: 'gantry-hello--production-0123456789ab-v1',
      secret: 'gantry-hello--production--v1',
    },
    {
      name: 'release 12',
      release: 12,
      rs: 'gantry-hello--production-0123456789ab-v12',
      secret: 'gantry-hello--production--v12',
    },
  ])('names the ReplicaSet and Secret of $name', ({ release, rs, secret }) => {
    expect(replicaSetName('hello', 'production', SHA, release)).toBe(rs);
    expect(secretName('hello', 'production', release)).toBe(secret);
  });

  it.each([
    { name: 'a long app environment', app: 'a'.repeat(60), env: 'production', release: 3 },
    { name: 'a long release number', app: 'a'.repeat(60), env: 'b'.repeat(60), release: 2e9 },
    { name: 'a short one', app: 'hello', env: 'production', release: 999999 },
  ])('keeps release names of $name to a DNS label, release last', ({ app, env, release }) => {
    const rs = replicaSetName(app, env, SHA, release);
    const secret = secretName(app, env, release);
    for (const n of [rs, secret]) {
      expect(n.length).toBeLessThanOrEqual(63);
      expect(n).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    }
    expect(rs.endsWith(`-0123456789ab-v${release}`)).toBe(true);
    expect(secret.endsWith(`--v${release}`)).toBe(true);
    // Two releases, and a release and none, never share a name.
    expect(replicaSetName(app, env, SHA, release + 1)).not.toBe(rs);
    expect(replicaSetName(app, env, SHA)).not.toBe(rs);
    expect(secretName(app, env, release + 1)).not.toBe(secret);
    expect(secretName(app, env)).not.toBe(secret);
  });

  it('never names the release Secret of one environment like the Secret of another', () => {
    // An environment may be called "prod-v2"; "--" never occurs in a name, so "--v2" is a release.
    expect(secretName('shop', 'prod', 2)).not.toBe(secretName('shop', 'prod-v2'));
  });

  it.each([
    ['7', 7],
    [undefined, null],
    ['', null],
    ['0', null],
    ['v7', null],
    ['1.5', null],
  ] as const)('reads the release label %j as %j', (label, want) => {
    expect(releaseOf(label)).toBe(want);
  });

  it.each([
    [undefined, []],
    ['', []],
    ['s1,s0,s1', ['s0', 's1']],
    ['a,,b', ['a', 'b']],
  ])('parses the slots annotation %j', (raw, want) => {
    expect(parseSlots(raw)).toEqual(want);
  });

  it('formats slots sorted and unique', () => {
    expect(formatSlots(['b', 'a', 'b'])).toBe('a,b');
  });

  it('selects an app, or an app environment, of Gantry-managed objects', () => {
    expect(selectorOf({ app: 'hello' })).toBe(
      'app.kubernetes.io/managed-by=gantry,gantry.dev/app=hello',
    );
    expect(selectorOf({ app: 'hello', env: 'prod' })).toContain(',gantry.dev/env=prod');
  });
});

describe('Kubernetes manifests', () => {
  it('builds the ReplicaSet of a revision: labels, selector, slots, image by digest', () => {
    const rs = replicaSetManifest(spec(), 'gantry', ['s1', 's0']);
    const labels = {
      'app.kubernetes.io/managed-by': 'gantry',
      'gantry.dev/app': 'hello',
      'gantry.dev/env': 'production',
      'gantry.dev/revision': SHA,
    };
    expect(rs.metadata).toMatchObject({
      name: 'gantry-hello--production-0123456789ab',
      namespace: 'gantry',
      labels,
      annotations: { 'gantry.dev/slots': 's0,s1', 'gantry.dev/image': IMAGE },
    });
    expect(rs.spec?.replicas).toBe(2);
    expect(rs.spec?.selector.matchLabels).toEqual(labels);
    expect(rs.spec?.template?.metadata?.labels).toEqual({ ...labels, 'gantry.dev/rollout': 'r-1' });
    const pod = rs.spec?.template?.spec;
    expect(pod).toMatchObject({
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 10,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      shareProcessNamespace: true,
    });
    expect(pod?.containers).toHaveLength(1);
    expect(pod?.containers[0]).toMatchObject({
      name: 'app',
      image: IMAGE,
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    });
  });

  it.each([
    {
      name: 'a release',
      release: 4,
      rs: 'gantry-hello--production-0123456789ab-v4',
      labels: { 'gantry.dev/release': '4' },
      secret: 'gantry-hello--production--v4',
      immutable: true,
    },
    {
      name: 'no release (a spec from before releases)',
      release: undefined,
      rs: 'gantry-hello--production-0123456789ab',
      labels: {},
      secret: 'gantry-hello--production',
      immutable: undefined,
    },
  ])('builds the ReplicaSet and Secret of $name', ({ release, rs, labels, secret, immutable }) => {
    const s = spec({ release, vars: { GREETING: `hi-${release}` } });
    const m = replicaSetManifest(s, 'gantry', ['s0']);
    const want = {
      'app.kubernetes.io/managed-by': 'gantry',
      'gantry.dev/app': 'hello',
      'gantry.dev/env': 'production',
      'gantry.dev/revision': SHA,
      ...labels,
    };
    expect(m.metadata?.name).toBe(rs);
    expect(m.metadata?.labels).toEqual(want);
    // In the selector too: two releases of one commit never count each other's pods.
    expect(m.spec?.selector.matchLabels).toEqual(want);
    expect(m.spec?.template?.metadata?.labels).toEqual({ ...want, 'gantry.dev/rollout': 'r-1' });
    const env = m.spec?.template?.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'GREETING')).toEqual({
      name: 'GREETING',
      value: `hi-${release}`,
    });
    expect(env.find((e) => e.name === 'API_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: secret,
      key: 'API_TOKEN',
    });
    expect(JSON.stringify(m)).not.toContain('never-in-a-manifest-3f9a');

    const sec = secretManifest(s, 'gantry');
    expect(sec.metadata?.name).toBe(secret);
    expect(sec.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'gantry',
      'gantry.dev/app': 'hello',
      'gantry.dev/env': 'production',
      ...labels,
    });
    expect(sec.immutable).toBe(immutable);
    expect(sec.metadata?.ownerReferences).toBeUndefined();
  });

  it('makes the release ReplicaSet the owner of its Secret once it exists', () => {
    const rs = { metadata: { name: 'gantry-hello--production-0123456789ab-v4', uid: 'u-1' } };
    const sec = secretManifest(spec({ release: 4 }), 'gantry', rs);
    expect(sec.metadata?.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: 'u-1' },
    ]);
    expect(ownerReference({ metadata: { name: 'x' } })).toBeUndefined();
  });

  it('never puts a secret value in the ReplicaSet: secrets are references to the Secret', () => {
    const rs = replicaSetManifest(spec(), 'gantry', ['s0']);
    expect(JSON.stringify(rs)).not.toContain('never-in-a-manifest-3f9a');
    const env = rs.spec?.template?.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'API_TOKEN')).toEqual({
      name: 'API_TOKEN',
      valueFrom: { secretKeyRef: { name: 'gantry-hello--production', key: 'API_TOKEN' } },
    });
    const secret = secretManifest(spec(), 'gantry');
    expect(secret.metadata?.name).toBe('gantry-hello--production');
    expect(secret.stringData).toEqual({ API_TOKEN: 'never-in-a-manifest-3f9a' });
  });

  it('layers the environment like Docker: PORT < vars < secrets < GANTRY_*, sorted', () => {
    const env = containerEnv(
      spec({ vars: { PORT: '1', A: 'x', GANTRY_APP: 'spoofed' }, secrets: { A: 's' } }),
    );
    expect(env.map((e) => e.name)).toEqual([
      'A',
      'GANTRY_APP',
      'GANTRY_ENV',
      'GANTRY_POD',
      'GANTRY_REVISION',
      'PORT',
    ]);
    expect(env.find((e) => e.name === 'PORT')?.value).toBe('1');
    expect(env.find((e) => e.name === 'A')?.valueFrom?.secretKeyRef?.key).toBe('A');
    expect(env.find((e) => e.name === 'GANTRY_APP')?.value).toBe('hello');
    expect(env.find((e) => e.name === 'GANTRY_POD')?.valueFrom?.fieldRef?.fieldPath).toBe(
      'metadata.name',
    );
  });

  it.each([
    [{ kind: 'http', path: '/healthz' } as const, { httpGet: { path: '/healthz', port: 'http' } }],
    [{ kind: 'tcp' } as const, { tcpSocket: { port: 'http' } }],
    [
      { kind: 'exec', command: ['/bin/check', '--quick'] } as const,
      { exec: { command: ['/bin/check', '--quick'] } },
    ],
  ])('makes the readiness probe from a %j health check', (check, want) => {
    const probe = readinessProbe(spec({ readiness: { check, intervalMs: 1500, timeoutMs: 800 } }));
    expect(probe).toEqual({
      ...want,
      periodSeconds: 2,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 1,
    });
  });

  it('has no readiness probe without a health check', () => {
    expect(readinessProbe(spec({ readiness: undefined }))).toBeUndefined();
  });

  it.each([
    [undefined, undefined, undefined],
    [0.5, undefined, { cpu: '500m' }],
    [2, 268435456, { cpu: '2000m', memory: '268435456' }],
  ])('sets resources cpu=%j memory=%j as equal requests and limits', (cpu, memoryBytes, want) => {
    const r = resources(spec({ cpu, memoryBytes }));
    expect(r).toEqual(want === undefined ? undefined : { limits: want, requests: want });
  });

  it('builds a route Service that selects the routed pods on the named port', () => {
    const svc = serviceManifest({ id: 'hello-production', port: 80 }, 'gantry');
    expect(svc.metadata?.name).toBe('gantry-hello-production');
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      selector: {
        'app.kubernetes.io/managed-by': 'gantry',
        'gantry.dev/route': 'hello-production',
      },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    });
  });
});

describe('process types on Kubernetes', () => {
  const worker = spec({
    process: 'worker',
    routed: false,
    command: ['sh', '-c', 'work'],
    release: 4,
  });

  it('one ReplicaSet per process type, told apart by name and selector', () => {
    const web = replicaSetManifest(spec({ process: 'web', release: 4 }), 'ns', ['a']);
    const w = replicaSetManifest(worker, 'ns', ['b']);
    expect(web.metadata?.name).toBe('gantry-hello--production-0123456789ab-v4');
    expect(w.metadata?.name).toBe('gantry-hello--production-0123456789ab-v4--worker');
    expect(web.spec?.selector.matchLabels?.['gantry.dev/process']).toBeUndefined();
    expect(w.spec?.selector.matchLabels?.['gantry.dev/process']).toBe('worker');
    const c = w.spec?.template?.spec?.containers[0];
    expect(c?.args).toEqual(['sh', '-c', 'work']);
    expect(c?.ports).toBeUndefined();
    expect(web.spec?.template?.spec?.containers[0]?.ports?.[0]?.containerPort).toBe(8080);
  });

  it('each process type reads its own Secret, so one ReplicaSet going never takes another’s', () => {
    expect(secretManifest(worker, 'ns').metadata?.name).toBe(
      'gantry-hello--production--v4--worker',
    );
    expect(secretName('hello', 'production', 4, 'web')).toBe(secretName('hello', 'production', 4));
    const ref = containerEnv(worker).find((v) => v.name === 'API_TOKEN');
    expect(ref?.valueFrom?.secretKeyRef?.name).toBe('gantry-hello--production--v4--worker');
  });
});
