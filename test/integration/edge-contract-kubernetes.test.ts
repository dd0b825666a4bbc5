/**
 * The edge contract against the Kubernetes Service edge, on the API-server simulator (or the
 * cluster of KUBECONFIG): upstreams are pods of the contract app started by the Kubernetes
 * runtime, and a client reaches a route's URL (`http://<service>.<namespace>.svc:<port>`) through
 * the API server's Service proxy, as a pod in the cluster would through kube-proxy.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { rawGet } from '../../src/runtime/kubernetes/kube-client.js';
import { LABEL, MANAGED_BY } from '../../src/runtime/kubernetes/names.js';
import { startKubernetesTarget } from '../../src/runtime/kubernetes/target.js';
import type { Instance } from '../../src/runtime/runtime.js';
import {
  SLOW_MS,
  edgeContract,
  type EdgeCapabilities,
  type EdgeReply,
} from '../contract/edge-contract.js';
import { CONTRACT_APP_PORT, buildContractImage } from '../contract/runtime-contract.js';
import { testEnv, uniqueName } from '../support/env.js';
import { startTestCluster } from './kubernetes-cluster.js';

/**
 * A Service routes by pod label: its endpoints reach kube-proxy a moment after the label changes
 * (no atomic switch), it has no request counts (drain waits a fixed `drainMs` instead of for the
 * requests in flight), and it does not know which pods the edge unrouted (drain refuses nothing).
 * See src/edge/kubernetes/service-edge.ts.
 */
const SERVICE_EDGE_CAPABILITIES: EdgeCapabilities = {
  atomicSwitch: false,
  drainRefusesRouted: false,
  drainWaitsForInFlight: false,
};

/** The Service port a route listens on (the listen host means nothing to a ClusterIP). */
const SERVICE_PORT = 80;

edgeContract('kubernetes', async () => {
  const env = testEnv();
  const repo = uniqueName('kec');
  const image = await buildContractImage({
    registry: env.registry,
    app: repo,
    version: '1',
    dir: join(env.runDir, repo),
  });
  const cluster = await startTestCluster(join(env.runDir, `${repo}-kube`));
  // The controller's wiring: runtime and Service edge over one pod cache, with the chart's Role.
  const target = await startKubernetesTarget({
    namespace: cluster.namespace,
    kubeconfig: cluster.kubeconfig,
    drainMs: 300,
  });
  const admin = new KubeConfig();
  admin.loadFromFile(cluster.adminKubeconfig);
  const core = admin.makeApiClient(CoreV1Api);
  const started: Instance[] = [];

  /** Whether the kubelet counts the pod ready: only ready pods are a Service's endpoints. */
  async function ready(pod: string): Promise<boolean> {
    const now = await core.readNamespacedPod({ name: pod, namespace: cluster.namespace });
    return (now.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  }

  return {
    edge: target.edge,
    capabilities: SERVICE_EDGE_CAPABILITIES,
    listen: async () => ({ host: '0.0.0.0', port: SERVICE_PORT }),
    async upstream(name) {
      const instance = await target.runtime.start({
        app: repo,
        env: 'edge',
        // A revision each: pods of one revision share a ReplicaSet, so one template, one GREETING.
        revision: createHash('sha1').update(name).digest('hex'),
        rolloutId: 'edge-contract',
        slot: name,
        image,
        port: CONTRACT_APP_PORT,
        vars: { GREETING: name },
        secrets: {},
        host: cluster.namespace,
        readiness: { check: { kind: 'http', path: '/healthz' }, intervalMs: 500, timeoutMs: 1_000 },
      });
      started.push(instance);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const now = (await target.runtime.list({ app: repo })).find((i) => i.id === instance.id);
        if (now?.upstream !== undefined && (await ready(now.name).catch(() => false))) {
          return { name, address: now.upstream };
        }
        if (Date.now() > deadline) throw new Error(`pod for ${name} not ready within 60s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async request(url, opts) {
      // http://<service>.<namespace>.svc:<port> → the API server's proxy for that Service port.
      const u = new URL(url);
      const [service, namespace] = u.hostname.split('.');
      const path = opts?.slow ? `/cgi-bin/slow?${Math.ceil(SLOW_MS / 1000)}` : '/cgi-bin/info';
      try {
        const res = await rawGet(
          admin,
          // The URL elides a default port (80): a real API server would then look for a Service
          // port named "" and find no endpoints (the simulator took the first port).
          `/api/v1/namespaces/${namespace}/services/${service}:${u.port || '80'}/proxy${path}`,
          SLOW_MS * 4,
        );
        // The contract app's info page names the pod's GREETING; its slow page names nobody.
        const from = /greeting=(\S+)/.exec(res.body)?.[1];
        return { status: res.status, from } satisfies EdgeReply;
      } catch {
        return { status: 0, from: undefined };
      }
    },
    async loseRoutes() {
      // Services deleted by hand; the pods keep their route labels.
      const services = await core.listNamespacedService({
        namespace: cluster.namespace,
        labelSelector: `${LABEL.managed}=${MANAGED_BY}`,
      });
      for (const svc of services.items) {
        const name = svc.metadata?.name;
        if (name !== undefined) {
          await core.deleteNamespacedService({ name, namespace: cluster.namespace });
        }
      }
    },
    async dispose() {
      for (const i of started) await target.runtime.remove(i).catch(() => undefined);
      target.close();
      await cluster.close();
    },
  };
});
