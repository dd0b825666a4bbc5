/**
 * The Kubernetes API-server simulator, driven by the real client library
 * (@kubernetes/client-node): REST verbs and their errors, watches, the ReplicaSet controller and
 * the kubelet running pods as Docker containers pulled from the run's registry.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_LABEL, startKubeSim, type KubeSim } from '../kube-sim/index.js';
import { testEnv, uniqueName } from '../support/env.js';

const run = promisify(execFile);
const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'hello');
const BASE = 'gantry.local/busybox:1';

/** Builds examples/hello, pushes it, drops the local tag: the kubelet must pull it by digest. */
async function pushExample(registry: string): Promise<string> {
  const tag = `${registry}/${uniqueName('kubesim')}:v1`;
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_BUILDKIT: '0' };
  delete env.DOCKER_HOST;
  await run('docker', ['build', '-q', '-t', tag, EXAMPLE], { env });
  const { stdout } = await run('docker', ['push', tag], { env });
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(stdout)?.[1];
  if (!digest) throw new Error(`docker push printed no digest:\n${stdout}`);
  await run('docker', ['image', 'rm', '--no-prune', tag], { env });
  return `${tag.replace(/:v1$/, '')}@${digest}`;
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function apiError(
  p: Promise<unknown>,
): Promise<{ code: number; body: { reason?: string; code?: number } }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: JSON.parse(String(e.body)) };
    throw e;
  }
  throw new Error('the request succeeded');
}

function replicaSet(
  name: string,
  image: string,
  replicas: number,
  extra: Partial<V1Pod['spec']> = {},
): V1ReplicaSet {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image,
              ports: [{ containerPort: 8080 }],
              readinessProbe: {
                httpGet: { path: '/healthz', port: 8080 },
                periodSeconds: 1,
                failureThreshold: 2,
              },
            },
          ],
          ...extra,
        },
      },
    },
  };
}

describe('kube-sim: a Kubernetes API server for the client library', () => {
  let sim: KubeSim;
  let kc: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let image: string;
  const ns = 'gantry-test';

  beforeAll(async () => {
    const { registry } = testEnv();
    [sim, image] = await Promise.all([
      startKubeSim({ namespace: ns, registry, probeScale: 0.1, bookmarkIntervalMs: 200 }),
      pushExample(registry),
    ]);
    kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfigYaml);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    const simId = sim?.simId;
    await sim?.close();
    if (simId) {
      const left = await new Docker().listContainers({
        all: true,
        filters: { label: [`${SIM_LABEL}=${simId}`] },
      });
      expect(left).toHaveLength(0);
    }
  });

  it('needs the bearer token of its kubeconfig and serves discovery', async () => {
    expect((await fetch(`${sim.url}/api/v1/namespaces/${ns}/pods`)).status).toBe(401);
    const version = await (
      await fetch(`${sim.url}/version`, { headers: { authorization: `Bearer ${sim.token}` } })
    ).json();
    expect(version).toMatchObject({ major: '1' });
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(ns);
  });

  it('runs a ReplicaSet of the example image pulled by digest: pods get Ready and answer through the pod proxy', async () => {
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'hello-env' }, stringData: { revision: 'from-a-secret' } },
    });
    const body = replicaSet('hello', image, 2);
    body.spec!.template!.spec!.containers[0]!.env = [
      {
        name: 'GANTRY_REVISION',
        valueFrom: { secretKeyRef: { name: 'hello-env', key: 'revision' } },
      },
      { name: 'GANTRY_ENV', value: 'sim' },
    ];
    const created = await apps.createNamespacedReplicaSet({ namespace: ns, body });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.generation).toBe(1);

    const rs = await until('2 ready replicas', async () => {
      const r = await apps.readNamespacedReplicaSet({ name: 'hello', namespace: ns });
      return r.status?.readyReplicas === 2 && r.status.availableReplicas === 2 && r;
    });
    expect(rs.status?.observedGeneration).toBe(1);

    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hello' });
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) {
      expect(p.metadata?.name).toMatch(/^hello-[a-z0-9]{5}$/);
      expect(p.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'ReplicaSet',
        name: 'hello',
        uid: created.metadata?.uid,
        controller: true,
      });
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
      expect(p.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    }

    const pod = pods.items[0]!.metadata!.name!;
    const page = await fetch(`${sim.url}/api/v1/namespaces/${ns}/pods/${pod}/proxy/`, {
      headers: { authorization: `Bearer ${sim.token}` },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('hello from gantry');
    const info = await fetch(
      `${sim.url}/api/v1/namespaces/${ns}/pods/${pod}:8080/proxy/cgi-bin/info`,
      { headers: { authorization: `Bearer ${sim.token}` } },
    );
    const text = await info.text();
    expect(text).toContain(`hostname=${pod}`);
    expect(text).toContain('revision=from-a-secret');

    // A Service's proxy goes to a ready pod it selects (what kube-proxy would do for its ClusterIP).
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'hello' },
        spec: { selector: { app: 'hello' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
    });
    const auth = { headers: { authorization: `Bearer ${sim.token}` } };
    const viaService = await fetch(
      `${sim.url}/api/v1/namespaces/${ns}/services/hello:http/proxy/cgi-bin/info`,
      auth,
    );
    expect(await viaService.text()).toMatch(/hostname=hello-[a-z0-9]{5}/);
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'nobody' },
        spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] },
      },
    });
    const none = await fetch(`${sim.url}/api/v1/namespaces/${ns}/services/nobody/proxy/`, auth);
    expect(none.status).toBe(503);
    expect(await none.json()).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable' });

    const events = await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.name=${pod}`,
    });
    const reasons = events.items.map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']),
    );
    expect(events.items.find((e) => e.reason === 'Pulled')?.message).toContain(image);
  });

  it('tails pod logs', async () => {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hello' });
    const name = pods.items[0]!.metadata!.name!;
    // busybox httpd -v logs every answer, the readiness probes' included.
    await until(
      '3 log lines',
      async () =>
        (await core.readNamespacedPodLog({ name, namespace: ns })).split('\n').filter(Boolean)
          .length >= 3,
    );
    const tail = await core.readNamespacedPodLog({
      name,
      namespace: ns,
      tailLines: 2,
      container: 'app',
    });
    const lines = tail.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toMatch(/response:200/);
  });

  it('scales down the pod with the lowest pod-deletion-cost first, through a watch that sees every step', async () => {
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hello' }))
      .items;
    const startRv = (await core.listNamespacedPod({ namespace: ns })).metadata!.resourceVersion!;
    // Without a cost, the pod ready for the shortest time would go; the cost overrides that.
    const byReady = [...pods].sort((a, b) => readyAt(a) - readyAt(b));
    const cheap = byReady[0]!.metadata!.name!;
    const kept = byReady[1]!.metadata!.name!;
    for (const [name, cost] of [
      [cheap, '-10'],
      [kept, '10'],
    ] as const) {
      await core.patchNamespacedPod(
        {
          name,
          namespace: ns,
          body: {
            metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': cost } },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }

    const seen: { type: string; name?: string; rv: number }[] = [];
    const watch = await new Watch(kc).watch(
      `/api/v1/namespaces/${ns}/pods`,
      { resourceVersion: startRv, allowWatchBookmarks: true, labelSelector: 'app=hello' },
      (type, obj: V1Pod) =>
        seen.push({ type, name: obj.metadata?.name, rv: Number(obj.metadata?.resourceVersion) }),
      () => undefined,
    );
    try {
      await apps.patchNamespacedReplicaSetScale({
        name: 'hello',
        namespace: ns,
        body: [{ op: 'replace', path: '/spec/replicas', value: 1 }],
      });
      await until('the cheap pod to be gone', async () =>
        seen.some((e) => e.type === 'DELETED' && e.name === cheap),
      );
      await until('a bookmark', async () => seen.some((e) => e.type === 'BOOKMARK'));
    } finally {
      watch.abort();
    }
    const left = (
      await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hello' })
    ).items.map((p) => p.metadata!.name);
    expect(left).toEqual([kept]);
    // The annotation patch, then deletionTimestamp, then DELETED — in resourceVersion order.
    expect(seen.filter((e) => e.name === cheap).map((e) => e.type)).toEqual([
      'MODIFIED',
      'MODIFIED',
      'DELETED',
    ]);
    const rvs = seen.map((e) => e.rv);
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    const rs = await until('status of 1 replica', async () => {
      const r = await apps.readNamespacedReplicaSet({ name: 'hello', namespace: ns });
      return r.status?.replicas === 1 && r;
    });
    expect(rs.metadata?.generation).toBe(2);
    expect(rs.spec?.replicas).toBe(1);
  });

  it('answers 409 to a stale resourceVersion, to conflictNext, and to a taken name', async () => {
    const rs = await apps.readNamespacedReplicaSet({ name: 'hello', namespace: ns });
    await apps.patchNamespacedReplicaSet(
      { name: 'hello', namespace: ns, body: { metadata: { labels: { touched: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const stale = await apiError(
      apps.replaceNamespacedReplicaSet({ name: 'hello', namespace: ns, body: rs }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
    });

    sim.faults.conflictNext('replicasets', 1);
    // An unconditional patch never conflicts (the server retries it): the fault waits.
    await apps.patchNamespacedReplicaSet(
      { name: 'hello', namespace: ns, body: { metadata: { labels: { touched: 'again' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const fresh = await apps.readNamespacedReplicaSet({ name: 'hello', namespace: ns });
    expect(
      (
        await apiError(
          apps.replaceNamespacedReplicaSet({ name: 'hello', namespace: ns, body: fresh }),
        )
      ).body.reason,
    ).toBe('Conflict');
    const replaced = await apps.replaceNamespacedReplicaSet({
      name: 'hello',
      namespace: ns,
      body: fresh,
    });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThanOrEqual(
      Number(fresh.metadata?.resourceVersion),
    );

    const taken = await apiError(
      core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'hello-env' } } }),
    );
    expect(taken).toMatchObject({ code: 409, body: { reason: 'AlreadyExists' } });
    const missing = await apiError(core.readNamespacedPod({ name: 'nope', namespace: ns }));
    expect(missing).toMatchObject({ code: 404, body: { reason: 'NotFound' } });
    const noNamespace = await apiError(
      core.createNamespacedSecret({ namespace: 'no-such-ns', body: { metadata: { name: 'x' } } }),
    );
    expect(noNamespace).toMatchObject({ code: 404, body: { reason: 'NotFound' } });

    // A pod's spec is immutable but for images.
    const pod = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hello' }))
      .items[0]!;
    const changed = await apiError(
      core.patchNamespacedPod({
        name: pod.metadata!.name!,
        namespace: ns,
        body: [{ op: 'add', path: '/spec/containers/0/args', value: ['x'] }],
      }),
    );
    expect(changed).toMatchObject({ code: 422, body: { reason: 'Invalid' } });
  });

  it('selects by labels (equality and set-based) and by metadata.name', async () => {
    const labels: Record<string, Record<string, string>> = {
      's-one': { tier: 'a', env: 'dev', team: 'x' },
      's-two': { tier: 'b', env: 'prod', team: 'x' },
      's-three': { tier: 'c', env: 'dev' },
    };
    for (const [name, l] of Object.entries(labels)) {
      await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name, labels: l } } });
    }
    const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
      (await core.listNamespacedSecret({ namespace: ns, labelSelector, fieldSelector })).items
        .map((s) => s.metadata!.name!)
        .sort();
    expect(await names('tier in (a,b),env!=prod,team')).toEqual(['s-one']);
    expect(await names('tier notin (a),!team,env')).toEqual(['s-three']);
    expect(await names('env=dev')).toEqual(['s-one', 's-three']);
    expect(await names(undefined, 'metadata.name=s-two')).toEqual(['s-two']);
    expect(
      (await apiError(core.listNamespacedSecret({ namespace: ns, labelSelector: 'tier in (a' })))
        .code,
    ).toBe(400);
  });

  it('ends a watch from a compacted resourceVersion with 410 Expired, and an informer relists after it', async () => {
    const old = (await core.listNamespacedSecret({ namespace: ns })).metadata!.resourceVersion!;
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'after-old' } } });
    sim.faults.compact();
    const events: { type: string; obj: { code?: number; reason?: string } }[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(
        `/api/v1/namespaces/${ns}/secrets`,
        { resourceVersion: old },
        (type, obj) => events.push({ type, obj }),
        resolve,
      );
    });
    await ended;
    expect(events).toEqual([
      {
        type: 'ERROR',
        obj: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }),
      },
    ]);

    // The informer's watch is cut and its version expires: it must relist to see what came after.
    const informer = makeInformer(kc, `/api/v1/namespaces/${ns}/secrets`, () =>
      core.listNamespacedSecret({ namespace: ns }),
    );
    const added = new Set<string>();
    informer.on('add', (s) => added.add(s.metadata!.name!));
    // A cut connection stops client-node's informer with an error: restarting it is the caller's job.
    let errors = 0;
    informer.on('error', () => {
      errors += 1;
      setTimeout(() => void informer.start(), 100);
    });
    await informer.start();
    try {
      await until('the informer to list', async () => added.has('after-old'));
      sim.faults.dropWatches();
      await core.createNamespacedSecret({
        namespace: ns,
        body: { metadata: { name: 'while-cut' } },
      });
      sim.faults.compact();
      await until('the informer to relist after 410', async () => added.has('while-cut'), 60_000);
      expect(informer.list().map((s) => s.metadata!.name)).toContain('while-cut');
      expect(errors).toBe(1);
    } finally {
      await informer.stop();
    }
  });

  it('restarts a crashing container with CrashLoopBackOff and a growing restartCount', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'crasher' },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'boom', image: BASE, command: ['busybox', 'sh', '-c', 'echo boom; exit 3'] },
          ],
        },
      },
    });
    const pod = await until('CrashLoopBackOff', async () => {
      const p = await core.readNamespacedPod({ name: 'crasher', namespace: ns });
      const s = p.status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === 'CrashLoopBackOff' && (s.restartCount ?? 0) >= 2 && p;
    });
    const status = pod.status!.containerStatuses![0]!;
    expect(status.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(status.ready).toBe(false);
    const first = status.restartCount;
    await until(
      'one more restart',
      async () =>
        ((await core.readNamespacedPod({ name: 'crasher', namespace: ns })).status
          ?.containerStatuses?.[0]?.restartCount ?? 0) > first,
    );
    expect(
      await core.readNamespacedPodLog({ name: 'crasher', namespace: ns, previous: true }),
    ).toContain('boom');
    const events = await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: 'involvedObject.name=crasher,reason=BackOff',
    });
    expect(events.items[0]?.type).toBe('Warning');
    await core.deleteNamespacedPod({ name: 'crasher', namespace: ns, gracePeriodSeconds: 0 });
  });

  it('runs readiness and liveness probes of every kind against the container', async () => {
    const httpd = ['busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'];
    const pod = (name: string, probes: Partial<V1Container>): V1Pod => ({
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'app', image: BASE, command: httpd, ports: [{ containerPort: 8080 }], ...probes },
        ],
      },
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('probe-404', {
        readinessProbe: { httpGet: { path: '/missing', port: 8080 }, periodSeconds: 1 },
      }),
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('probe-tcp', { readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }),
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('probe-exec', {
        readinessProbe: { exec: { command: ['busybox', 'true'] }, periodSeconds: 1 },
        livenessProbe: {
          exec: { command: ['busybox', 'false'] },
          periodSeconds: 1,
          failureThreshold: 2,
        },
      }),
    });
    const read = (name: string) => core.readNamespacedPod({ name, namespace: ns });
    await until(
      'probe-tcp ready',
      async () => (await read('probe-tcp')).status?.containerStatuses?.[0]?.ready,
    );
    await until(
      'probe-exec restarted by its liveness probe',
      async () =>
        ((await read('probe-exec')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
    );
    const unhealthy = await until(
      'an Unhealthy event of probe-404',
      async () =>
        (
          await core.listNamespacedEvent({
            namespace: ns,
            fieldSelector: 'involvedObject.name=probe-404,reason=Unhealthy',
          })
        ).items[0],
    );
    expect(unhealthy.message).toBe(
      'Readiness probe failed: HTTP probe failed with statuscode: 404',
    );
    const p404 = await read('probe-404');
    expect(p404.status?.phase).toBe('Running');
    expect(p404.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    const killing = await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: 'involvedObject.name=probe-exec,reason=Killing',
    });
    expect(killing.items[0]?.message).toContain('failed liveness probe');
    for (const name of ['probe-404', 'probe-tcp', 'probe-exec']) {
      await core.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 });
    }
  });

  it('reports ImagePullBackOff and a Failed event for an image the registry does not have', async () => {
    const missing = `${testEnv().registry}/kubesim-missing@sha256:${'0'.repeat(64)}`;
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'no-image' },
        spec: { containers: [{ name: 'app', image: missing }] },
      },
    });
    const pod = await until('ImagePullBackOff', async () => {
      const p = await core.readNamespacedPod({ name: 'no-image', namespace: ns });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' && p;
    });
    expect(pod.status?.phase).toBe('Pending');
    const events = (
      await core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=no-image',
      })
    ).items;
    const failed = events.find(
      (e) => e.reason === 'Failed' && e.message?.startsWith('Failed to pull image'),
    );
    expect(failed?.type).toBe('Warning');
    expect(failed?.message).toContain(missing);
    expect(events.map((e) => e.reason)).toContain('BackOff');
    await core.deleteNamespacedPod({ name: 'no-image', namespace: ns });
    await until(
      'the pod to go',
      async () =>
        (await core.listNamespacedPod({ namespace: ns, fieldSelector: 'metadata.name=no-image' }))
          .items.length === 0,
    );
  });

  it('deletes the pods of a deleted ReplicaSet', async () => {
    await apps.deleteNamespacedReplicaSet({ name: 'hello', namespace: ns });
    await expect(apps.readNamespacedReplicaSet({ name: 'hello', namespace: ns })).rejects.toThrow(
      /404/,
    );
    await until(
      'no pods of hello',
      async () =>
        (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hello' })).items
          .length === 0,
    );
  });

  it("keeps an immutable Secret's data, and collects a Secret whose owning ReplicaSet is gone", async () => {
    const rs = await apps.createNamespacedReplicaSet({
      namespace: ns,
      body: {
        metadata: { name: 'owner' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'owner' } },
          template: {
            metadata: { labels: { app: 'owner' } },
            spec: { containers: [{ name: 'app', image }] },
          },
        },
      },
    });
    const ref = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'owner',
      uid: rs.metadata!.uid!,
    };
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'sealed' }, immutable: true, stringData: { K: 'v1' } },
    });
    const patch = (body: object) =>
      core.patchNamespacedSecret(
        { name: 'sealed', namespace: ns, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await expect(patch({ stringData: { K: 'v2' } })).rejects.toThrow(/422/);
    await expect(patch({ immutable: false })).rejects.toThrow(/422/);
    // Its metadata is not data: an owner can be set.
    await patch({ metadata: { ownerReferences: [ref] } });
    const read = await core.readNamespacedSecret({ name: 'sealed', namespace: ns });
    expect(Buffer.from(read.data?.K ?? '', 'base64').toString()).toBe('v1');
    expect(read.metadata?.ownerReferences?.[0]?.uid).toBe(ref.uid);

    await apps.deleteNamespacedReplicaSet({ name: 'owner', namespace: ns });
    await until('the owned Secret collected', async () =>
      core.readNamespacedSecret({ name: 'sealed', namespace: ns }).then(
        () => false,
        (e: unknown) => e instanceof ApiException && e.code === 404,
      ),
    );
  });
});

function readyAt(p: V1Pod): number {
  const t = p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
  return t ? new Date(t).getTime() : 0;
}
