import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { isGantryError } from '../../src/errors.js';
import { proxiedHttpProbe, readinessProbe } from '../../src/health/proxied-probe.js';
import { loadKubeConfig, proxyFailure } from '../../src/runtime/kubernetes/kube-client.js';
import type { Instance, InstanceProbes } from '../../src/runtime/runtime.js';

const REPOS = 'repos: [{ name: app, url: "http://127.0.0.1:1/app.git" }]';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: sim
    cluster: { server: "http://127.0.0.1:6443" }
users:
  - name: gantry
    user: { token: t0ken }
contexts:
  - name: staging
    context: { cluster: sim, user: gantry, namespace: gantry }
current-context: staging
`;

describe('controller config: the Kubernetes target', () => {
  it('keeps Docker the default, with its hosts', () => {
    const c = parseControllerConfig(REPOS);
    expect(c.runtime.kind).toBe('docker');
    expect(c.runtime.hosts).toEqual([{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }]);
  });

  it('reads kind, namespace, credentials and drain time', () => {
    const c = parseControllerConfig(
      `${REPOS}\nruntime: { kind: kubernetes, namespace: apps, context: staging, kubeconfig: /k.yaml, drainMs: 500 }`,
    );
    expect(c.runtime).toMatchObject({
      kind: 'kubernetes',
      namespace: 'apps',
      context: 'staging',
      kubeconfig: '/k.yaml',
      inCluster: false,
      drainMs: 500,
    });
  });

  it.each([
    'runtime: { kind: nomad }',
    'runtime: { kind: kubernetes, namespace: Not_A_Namespace }',
    'runtime: { kind: kubernetes, namespace: apps, drainMs: -1 }',
  ])('rejects %s', (line) => {
    expect(() => parseControllerConfig(`${REPOS}\n${line}`)).toThrow();
  });
});

describe('Kubernetes credentials', () => {
  async function file(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-kc-'));
    const path = join(dir, 'config.yaml');
    await writeFile(path, KUBECONFIG);
    return path;
  }

  it('loads a kubeconfig file and a named context', async () => {
    const kc = loadKubeConfig({
      namespace: 'gantry',
      kubeconfig: await file(),
      context: 'staging',
    });
    expect(kc.getCurrentCluster()?.server).toBe('http://127.0.0.1:6443');
  });

  it('names an unknown context, with the ones there are, as a configuration error', async () => {
    let err: unknown;
    try {
      loadKubeConfig({ namespace: 'gantry', kubeconfig: await file(), context: 'prod' });
    } catch (e) {
      err = e;
    }
    expect(isGantryError(err, 'GANTRY_ERR_CONFIG_INVALID')).toBe(true);
    expect(String(err)).toContain('has: staging');
  });

  it('names a missing kubeconfig file as a configuration error', () => {
    let err: unknown;
    try {
      loadKubeConfig({ namespace: 'gantry', kubeconfig: '/nonexistent/kubeconfig' });
    } catch (e) {
      err = e;
    }
    expect(isGantryError(err, 'GANTRY_ERR_CONFIG_INVALID')).toBe(true);
  });

  it('tells the API server failing to proxy from the app answering', () => {
    const status = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      message: 'error trying to reach service: dial tcp 10.0.0.1:8080: connect: connection refused',
    });
    expect(proxyFailure({ body: status, contentType: 'application/json' })).toMatch(/refused/);
    expect(
      proxyFailure({ body: '{"kind":"Status"}', contentType: 'application/json' }),
    ).toBeUndefined();
    expect(proxyFailure({ body: 'not found', contentType: 'text/plain' })).toBeUndefined();
  });
});

describe('health checks through the runtime', () => {
  const instance = { id: 'p', name: 'pod-1', upstream: 'pod-1:8080' } as Instance;
  function probes(status: number | Error, ready?: boolean): InstanceProbes {
    return {
      httpGet: async () => {
        if (status instanceof Error) throw status;
        return { status };
      },
      ready: () =>
        ready === undefined ? undefined : { ready, detail: ready ? 'Ready' : 'not Ready' },
    };
  }

  it.each([
    [200, true, /^GET \/healthz → 200 after \d+ ms$/],
    [404, false, /^GET \/healthz → 404 after \d+ ms \(expected 200\)$/],
    [
      Object.assign(new Error('pod proxy: connection refused')),
      false,
      /GET \/healthz: pod proxy: connection refused/,
    ],
  ])('proxied GET answering %j → ok=%j', async (status, ok, detail) => {
    const r = await proxiedHttpProbe(probes(status), instance, '/healthz', 200, 1000);
    expect(r.ok).toBe(ok);
    expect(r.detail).toMatch(detail);
  });

  it.each([
    [undefined, false, 'no readiness reported yet'],
    [true, true, 'Ready'],
    [false, false, 'not Ready'],
  ])('readiness %j → ok=%j', (ready, ok, detail) => {
    expect(readinessProbe(probes(200, ready), instance)).toMatchObject({ ok, detail });
  });
});
