/**
 * Process types on the Kubernetes runtime (the API-server simulator, or the cluster of
 * KUBECONFIG): each process type of a release is its own ReplicaSet with its own Secret, a
 * worker's pods have no port, instances carry their process, and one process type's scale-down
 * never touches another's.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicaSetName, secretName } from '../../src/runtime/kubernetes/names.js';
import type { InstanceSpec } from '../../src/runtime/runtime.js';
import { CONTRACT_APP_PORT } from '../contract/runtime-contract.js';
import { uniqueName } from '../support/env.js';
import { startRuntimeOnCluster, type RuntimeOnCluster } from './kubernetes-cluster.js';

describe('Kubernetes runtime: one ReplicaSet per process type', () => {
  let on: RuntimeOnCluster;
  const app = uniqueName('kp').slice(0, 14);
  const SHA = 'c'.repeat(40);
  const runtime = () => on.runtime;

  beforeAll(async () => {
    on = await startRuntimeOnCluster(app);
  }, 120_000);
  afterAll(async () => {
    await on?.close();
  });

  function spec(slot: string, process: string, over: Partial<InstanceSpec> = {}): InstanceSpec {
    return {
      app,
      env: 'prod',
      revision: SHA,
      release: 2,
      rolloutId: 'r1',
      slot,
      image: on.image,
      port: CONTRACT_APP_PORT,
      process,
      vars: {},
      secrets: { TOKEN: 'proc-secret-5b1e' },
      host: on.cluster.namespace,
      ...over,
    };
  }

  it('runs web and worker of one release as two ReplicaSets, each with its Secret', async () => {
    const web = await runtime().start(
      spec('r1-0', 'web', {
        readiness: { check: { kind: 'http', path: '/healthz' }, intervalMs: 1000, timeoutMs: 1000 },
      }),
    );
    const worker = await runtime().start(
      spec('r1-1', 'worker', { routed: false, command: ['sh', '-c', 'sleep 3600'] }),
    );
    expect(web.process ?? 'web').toBe('web');
    expect(worker.process).toBe('worker');
    expect(worker.upstream).toBeUndefined();

    const apps = on.admin.makeApiClient(AppsV1Api);
    const core = on.admin.makeApiClient(CoreV1Api);
    const ns = on.cluster.namespace;
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
    const listed = await runtime().list({ app, env: 'prod' });
    expect(listed.map((i) => [i.slot, i.process ?? 'web']).sort()).toEqual([
      ['r1-0', 'web'],
      ['r1-1', 'worker'],
    ]);

    // The worker's scale-down leaves web's ReplicaSet and Secret alone.
    await runtime().stop(worker, { timeoutSeconds: 0 });
    await runtime().remove(worker);
    const left = await runtime().list({ app, env: 'prod' });
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
