/**
 * The real control plane of test/kube itself (GANTRY_KUBE=real, or built on this machine): a
 * Ready node, a pod scheduled by kube-scheduler and run by the node agent with a real pod IP,
 * its logs through `pods/log` (the API server → the agent's HTTPS port), `pods/proxy` to the pod
 * IP, a ReplicaSet's pods made and garbage-collected by kube-controller-manager, an EndpointSlice
 * for a Service, and the controller identity held to the chart's Role by the API server's RBAC.
 */
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE } from '../../src/demo/services.js';
import { rawGet } from '../../src/runtime/kubernetes/kube-client.js';
import { kubeBinaries, startRealTestCluster, type RealTestCluster } from '../kube/index.js';
import { testEnv, uniqueName } from '../support/env.js';

const wanted = process.env.GANTRY_KUBE === 'real';
const built = await kubeBinaries().then(
  () => true,
  () => false,
);
if (wanted && !built)
  throw new Error(
    'GANTRY_KUBE=real but the control plane is not built: run bash scripts/kube-infra.sh',
  );

const WEB = [
  'sh',
  '-c',
  'mkdir -p /www && echo ok > /www/healthz && echo hello from $HOSTNAME && exec httpd -f -v -p 8080 -h /www',
];

async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// With GANTRY_KUBE=real, which scripts/test.sh sets whenever the control plane is built (or can
// be built within its time budget): see docs/kubernetes.md.
describe.runIf(wanted && built)('the real control plane (test/kube)', () => {
  let cluster: RealTestCluster;
  let admin: KubeConfig;
  let controller: KubeConfig;
  let core: CoreV1Api;
  let ns: string;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startRealTestCluster(join(testEnv().runDir, uniqueName('kreal')));
    console.log(`real control plane up with a Ready node in ${Date.now() - started} ms`);
    ns = cluster.namespace;
    admin = new KubeConfig();
    admin.loadFromFile(cluster.adminKubeconfig);
    controller = new KubeConfig();
    controller.loadFromFile(cluster.kubeconfig);
    core = admin.makeApiClient(CoreV1Api);
  }, 240_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('schedules a pod onto the node, runs it with a real pod IP, and serves its logs and proxy', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          containers: [
            {
              name: 'app',
              image: BASE_IMAGE,
              command: WEB,
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    });
    const pod = await eventually<V1Pod>('pod web Ready', async () => {
      const p = await core.readNamespacedPod({ name: 'web', namespace: ns });
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready ? p : undefined;
    });
    expect(pod.spec?.nodeName).toBe(cluster.controlPlane.nodeName);
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.podIP).toMatch(/^10\./);
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });

    // As the controller's identity, which holds only the chart's Role.
    const ccore = controller.makeApiClient(CoreV1Api);
    const logs = await eventually('logs', async () => {
      const text = await ccore.readNamespacedPodLog({ name: 'web', namespace: ns });
      return text.includes('hello from web') ? text : undefined;
    });
    expect(logs).toContain('hello from web');
    const proxied = await rawGet(
      controller,
      `/api/v1/namespaces/${ns}/pods/web:8080/proxy/healthz`,
      5_000,
    );
    expect(proxied.status).toBe(200);
    expect(proxied.body.trim()).toBe('ok');
    // RBAC: the Role grants no pod creation, and no access outside the namespace.
    await expect(
      ccore.createNamespacedPod({
        namespace: ns,
        body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'a', image: BASE_IMAGE }] } },
      }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(ccore.listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({
      code: 403,
    });
  }, 120_000);

  it('runs a ReplicaSet through the controller-manager, with EndpointSlices and garbage collection', async () => {
    const apps = admin.makeApiClient(AppsV1Api);
    const labels = { app: 'rs-web' };
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'rs-web' },
        spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    await apps.createNamespacedReplicaSet({
      namespace: ns,
      body: {
        metadata: { name: 'rs-web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              // busybox httpd as PID 1 ignores SIGTERM: do not wait out the default 30 s.
              terminationGracePeriodSeconds: 2,
              containers: [
                {
                  name: 'app',
                  image: BASE_IMAGE,
                  command: WEB,
                  ports: [{ containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
    });
    await eventually('2 ready replicas', async () => {
      const rs = await apps.readNamespacedReplicaSet({ name: 'rs-web', namespace: ns });
      return rs.status?.readyReplicas === 2 ? true : undefined;
    });
    const discovery = admin.makeApiClient(DiscoveryV1Api);
    const slice = await eventually('an EndpointSlice with 2 ready endpoints', async () => {
      const list = await discovery.listNamespacedEndpointSlice({
        namespace: ns,
        labelSelector: 'kubernetes.io/service-name=rs-web',
      });
      const eps = list.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
      return eps.length === 2 ? eps : undefined;
    });
    expect(slice.every((e) => /^10\./.test(e.addresses[0] ?? ''))).toBe(true);
    // The service proxy goes through the endpoints to a pod.
    const viaService = await eventually('the service proxy', async () => {
      const res = await rawGet(
        admin,
        `/api/v1/namespaces/${ns}/services/rs-web:80/proxy/healthz`,
        5_000,
      );
      return res.status === 200 ? res : undefined;
    });
    expect(viaService.body.trim()).toBe('ok');
    // Deleting the ReplicaSet: the garbage collector deletes its pods, the agent stops them.
    await apps.deleteNamespacedReplicaSet({ name: 'rs-web', namespace: ns });
    await eventually('the ReplicaSet pods gone', async () => {
      const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=rs-web' });
      return pods.items.length === 0 ? true : undefined;
    });
  }, 180_000);
});
