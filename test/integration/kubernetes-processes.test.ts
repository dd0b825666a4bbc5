/**
 * Process types on the Kubernetes runtime (the API-server simulator, or the cluster of
 * KUBECONFIG): each process type of a release is its own ReplicaSet with its own Secret, a
 * worker's pods have no port, instances carry their process, and one process type's scale-down
 * never touches another's.
 */
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.js';
import { replicaSetName, secretName } from '../../src/runtime/kubernetes/names.js';
import type { InstanceSpec } from '../../src/runtime/runtime.js';
import { CONTRACT_APP_PORT, buildContractImage } from '../contract/runtime-contract.js';
import { testEnv, uniqueName } from '../support/env.js';
import { startTestCluster, type TestCluster } from './kubernetes-cluster.js';

describe('Kubernetes runtime: one ReplicaSet per process type', () => {
  let cluster: TestCluster;
  let runtime: KubernetesRuntime;
  let admin: KubeConfig;
  let image: string;
  const app = uniqueName('kp').slice(0, 14);
  const SHA = 'c'.repeat(40);

  beforeAll(async () => {
    const env = testEnv();
    image = await buildContractImage({
      registry: env.registry,
      app: `${app}-img`,
      version: '1',
      dir: join(env.runDir, `${app}-img`),
    });
    cluster = await startTestCluster(join(env.runDir, `${app}-kube`));
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    admin = new KubeConfig();
    admin.loadFromFile(cluster.adminKubeconfig);
    runtime = new KubernetesRuntime({ kc, namespace: cluster.namespace });
    await runtime.connect();
  }, 120_000);

  afterAll(async () => {
    for (const i of await runtime.list({ app }).catch(() => [])) {
      await runtime.remove(i).catch(() => undefined);
    }
    runtime?.close();
    await cluster?.close();
  });

  function spec(slot: string, process: string, over: Partial<InstanceSpec> = {}): InstanceSpec {
    return {
      app,
      env: 'prod',
      revision: SHA,
      release: 2,
      rolloutId: 'r1',
      slot,
      image,
      port: CONTRACT_APP_PORT,
      process,
      vars: {},
      secrets: { TOKEN: 'proc-secret-5b1e' },
      host: cluster.namespace,
      ...over,
    };
  }

  it('runs web and worker of one release as two ReplicaSets, each with its Secret', async () => {
    const web = await runtime.start(
      spec('r1-0', 'web', {
        readiness: { check: { kind: 'http', path: '/healthz' }, intervalMs: 1000, timeoutMs: 1000 },
      }),
    );
    const worker = await runtime.start(
      spec('r1-1', 'worker', { routed: false, command: ['sh', '-c', 'sleep 3600'] }),
    );
    expect(web.process ?? 'web').toBe('web');
    expect(worker.process).toBe('worker');
    expect(worker.upstream).toBeUndefined();

    const apps = admin.makeApiClient(AppsV1Api);
    const core = admin.makeApiClient(CoreV1Api);
    const ns = cluster.namespace;
    const webRs = await apps.readNamespacedReplicaSet({
      name: replicaSetName(app, 'prod', SHA, 2),
      namespace: ns,
    });
    const workerRs = await apps.readNamespacedReplicaSet({
      name: replicaSetName(app, 'prod', SHA, 2, 'worker'),
      namespace: ns,
    });
    expect(webRs.spec?.replicas).toBe(1);
    expect(workerRs.spec?.replicas).toBe(1);
    const container = workerRs.spec?.template?.spec?.containers[0];
    expect(container?.args).toEqual(['sh', '-c', 'sleep 3600']);
    expect(container?.ports).toBeUndefined();
    for (const process of ['web', 'worker']) {
      const s = await core.readNamespacedSecret({
        name: secretName(app, 'prod', 2, process),
        namespace: ns,
      });
      expect(s.metadata?.ownerReferences?.map((r) => r.name)).toEqual([
        replicaSetName(app, 'prod', SHA, 2, process),
      ]);
    }
    const listed = await runtime.list({ app, env: 'prod' });
    expect(listed.map((i) => [i.slot, i.process ?? 'web']).sort()).toEqual([
      ['r1-0', 'web'],
      ['r1-1', 'worker'],
    ]);

    // The worker's scale-down leaves web's ReplicaSet and Secret alone.
    await runtime.stop(worker, { timeoutSeconds: 0 });
    await runtime.remove(worker);
    const left = await runtime.list({ app, env: 'prod' });
    expect(left.map((i) => i.slot)).toEqual(['r1-0']);
    expect(
      (
        await apps.readNamespacedReplicaSet({
          name: replicaSetName(app, 'prod', SHA, 2),
          namespace: ns,
        })
      ).spec?.replicas,
    ).toBe(1);
    await expect(
      core.readNamespacedSecret({ name: secretName(app, 'prod', 2), namespace: ns }),
    ).resolves.toBeDefined();
  });
});
