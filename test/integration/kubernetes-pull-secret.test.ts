/**
 * Registry credentials on the Kubernetes target (API-server simulator, or the cluster of
 * GANTRY_KUBE/KUBECONFIG): the runtime keeps a `kubernetes.io/dockerconfigjson` Secret with them,
 * with the chart's Role only, and every ReplicaSet it makes names it as its imagePullSecret.
 */
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.js';
import { PULL_SECRET_NAME, replicaSetName } from '../../src/runtime/kubernetes/names.js';
import { CONTRACT_APP_PORT } from '../contract/runtime-contract.js';
import { contractImageOf } from '../support/controller-fixture.js';
import { uniqueName } from '../support/env.js';
import { startTestCluster, type TestCluster } from './kubernetes-cluster.js';

const kubeConfig = (file: string): KubeConfig => {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
};

describe('Kubernetes imagePullSecret for registry credentials', () => {
  let cluster: TestCluster;
  let image: string;
  let registry: string;
  let core: CoreV1Api;
  const runtimes: KubernetesRuntime[] = [];
  const app = uniqueName('kps').slice(0, 14);

  beforeAll(async () => {
    const built = await contractImageOf('kps');
    image = built.image;
    registry = built.env.registry;
    cluster = await startTestCluster(join(built.env.runDir, `${app}-kube`));
    core = kubeConfig(cluster.adminKubeconfig).makeApiClient(CoreV1Api);
  }, 120_000);

  afterAll(async () => {
    for (const runtime of runtimes) {
      for (const i of await runtime.list({ app }).catch(() => [])) {
        await runtime.remove(i).catch(() => undefined);
      }
      runtime.close();
    }
    await cluster?.close();
  });

  async function runtimeWith(password: string): Promise<KubernetesRuntime> {
    const runtime = new KubernetesRuntime({
      kc: kubeConfig(cluster.kubeconfig),
      namespace: cluster.namespace,
      registry: { address: registry, credentials: { username: 'ci', password } },
    });
    await runtime.connect();
    runtimes.push(runtime);
    return runtime;
  }

  async function pullSecretAuths(): Promise<unknown> {
    const secret = await core.readNamespacedSecret({
      name: PULL_SECRET_NAME,
      namespace: cluster.namespace,
    });
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
    const json = Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8');
    return (JSON.parse(json) as { auths: unknown }).auths;
  }

  const spec = (slot: string, revision: string) => ({
    app,
    env: 'prod',
    revision,
    rolloutId: 'r1',
    slot,
    image,
    port: CONTRACT_APP_PORT,
    vars: {},
    secrets: {},
    host: cluster.namespace,
  });

  it('makes the Secret, names it in the pod template, and writes rotated credentials over it', async () => {
    const first = await runtimeWith('first-password');
    const a = 'a'.repeat(40);
    await first.start(spec('a0', a));
    const basic = Buffer.from('ci:first-password').toString('base64');
    expect(await pullSecretAuths()).toEqual({
      [registry]: { username: 'ci', password: 'first-password', auth: basic },
    });
    const apps = kubeConfig(cluster.adminKubeconfig).makeApiClient(AppsV1Api);
    const rs = await apps.readNamespacedReplicaSet({
      name: replicaSetName(app, 'prod', a),
      namespace: cluster.namespace,
    });
    expect(rs.spec?.template?.spec?.imagePullSecrets).toEqual([{ name: PULL_SECRET_NAME }]);

    const rotated = await runtimeWith('second-password');
    await rotated.start(spec('b0', 'b'.repeat(40)));
    expect(await pullSecretAuths()).toMatchObject({ [registry]: { password: 'second-password' } });
  });

  it('refuses a same-named Secret it did not make', async () => {
    await core.deleteNamespacedSecret({ name: PULL_SECRET_NAME, namespace: cluster.namespace });
    await core.createNamespacedSecret({
      namespace: cluster.namespace,
      body: { metadata: { name: PULL_SECRET_NAME }, stringData: { other: 'x' } },
    });
    const runtime = await runtimeWith('third-password');
    const err: unknown = await runtime.start(spec('c0', 'c'.repeat(40))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGantryError(err, 'GANTRY_ERR_INSTANCE_CONFLICT')).toBe(true);
    expect(String(err)).not.toContain('third-password');
  });
});
