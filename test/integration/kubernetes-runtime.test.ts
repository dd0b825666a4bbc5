/**
 * The Kubernetes runtime against the API-server simulator (or the cluster of KUBECONFIG): the
 * runtime contract, and what only Kubernetes has — ReplicaSets per revision at the right scale,
 * pods claimed for slots, the pod proxy, readiness, failure evidence, and watches that survive a
 * drop, a 410 Gone and 409 conflicts.
 */
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.js';
import { LABEL, replicaSetName } from '../../src/runtime/kubernetes/names.js';
import type { Instance, InstanceSpec } from '../../src/runtime/runtime.js';
import {
  CONTRACT_APP_PORT,
  buildContractImage,
  runtimeContract,
  type ContractTraits,
  type ForeignInstance,
} from '../contract/runtime-contract.js';
import { contractImageOf } from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';
import { startTestCluster, type TestCluster } from './kubernetes-cluster.js';

const KUBE_TRAITS: ContractTraits = {
  published: false,
  stopKeeps: false,
  exec: false,
  ensureImagePulls: false,
  slotEnv: false,
};

/** The runtime's kubeconfig: on the simulator its user holds only the chart's Role. */
function kubeConfigOf(cluster: TestCluster): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  return kc;
}

/** The tests' own kubeconfig, for set-up and checks the runtime is not granted. */
function adminKubeConfigOf(cluster: TestCluster): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.adminKubeconfig);
  return kc;
}

runtimeContract('kubernetes', async () => {
  const { env, repo, image } = await contractImageOf('ktc');
  const cluster = await startTestCluster(join(env.runDir, `${repo}-kube`));
  const kc = kubeConfigOf(cluster);
  const runtime = new KubernetesRuntime({ kc, namespace: cluster.namespace });
  await runtime.connect();
  const core = adminKubeConfigOf(cluster).makeApiClient(CoreV1Api);
  return {
    runtime,
    traits: KUBE_TRAITS,
    host: cluster.namespace,
    image,
    async fetch(instance: Instance, path: string) {
      try {
        const res = await runtime.probes.httpGet(instance, path, 2_000);
        return { status: res.status, body: await proxyBody(kc, cluster.namespace, instance, path) };
      } catch {
        return undefined;
      }
    },
    async foreign(name: string): Promise<ForeignInstance> {
      // A pod made by hand: same image, none of Gantry's labels.
      const pod = await core.createNamespacedPod({
        namespace: cluster.namespace,
        body: {
          metadata: { name, labels: { [LABEL.app]: name.replace(/-foreign$/, '') } },
          spec: {
            containers: [
              {
                name: 'app',
                image,
                env: [{ name: 'PORT', value: String(CONTRACT_APP_PORT) }],
              },
            ],
          },
        },
      });
      return {
        id: pod.metadata?.uid ?? name,
        running: async () => {
          const now = await core
            .readNamespacedPod({ name, namespace: cluster.namespace })
            .catch(() => undefined);
          return now === undefined ? undefined : !now.metadata?.deletionTimestamp;
        },
        remove: async () => {
          await core
            .deleteNamespacedPod({ name, namespace: cluster.namespace, gracePeriodSeconds: 0 })
            .catch(() => undefined);
        },
      };
    },
    async dispose() {
      runtime.close();
      await cluster.close();
    },
  };
});

/** The body of a proxied GET (the probe interface only reports the status). */
async function proxyBody(
  kc: KubeConfig,
  namespace: string,
  instance: Instance,
  path: string,
): Promise<string> {
  const { rawGet } = await import('../../src/runtime/kubernetes/kube-client.js');
  const port = instance.upstream?.split(':').at(-1) ?? String(CONTRACT_APP_PORT);
  const res = await rawGet(
    kc,
    `/api/v1/namespaces/${namespace}/pods/${instance.name}:${port}/proxy${path}`,
    2_000,
  );
  return res.body;
}

describe('Kubernetes runtime: ReplicaSets, slots and faults', () => {
  let cluster: TestCluster;
  let kc: KubeConfig;
  let runtime: KubernetesRuntime;
  let image: string;
  const app = uniqueName('kr').slice(0, 14);

  beforeAll(async () => {
    const env = testEnv();
    image = await buildContractImage({
      registry: env.registry,
      app: `${app}-img`,
      version: '1',
      dir: join(env.runDir, `${app}-img`),
    });
    cluster = await startTestCluster(join(env.runDir, `${app}-kube`));
    kc = kubeConfigOf(cluster);
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

  function spec(slot: string, revision: string, over: Partial<InstanceSpec> = {}): InstanceSpec {
    return {
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
      readiness: { check: { kind: 'http', path: '/healthz' }, intervalMs: 1000, timeoutMs: 1000 },
      ...over,
    };
  }

  async function scaleOf(revision: string): Promise<number | undefined> {
    const apps = adminKubeConfigOf(cluster).makeApiClient(AppsV1Api);
    const rs = await apps
      .readNamespacedReplicaSet({
        name: replicaSetName(app, 'prod', revision),
        namespace: cluster.namespace,
      })
      .catch(() => undefined);
    return rs?.spec?.replicas;
  }

  it('keeps one ReplicaSet per revision at the number of its slots, through a watch drop, a 410 and 409s', async () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const [a0, a1] = [await runtime.start(spec('a0', a)), await runtime.start(spec('a1', a))];
    expect(await scaleOf(a)).toBe(2);
    expect(new Set([a0.id, a1.id]).size).toBe(2);

    const faults = cluster.faults;
    const { connects, lists } = runtime.pods;
    if (faults) {
      faults.dropWatches();
      faults.compact();
      faults.conflictNext('replicasets', 2);
      faults.conflictNext('pods', 1);
    }
    const b0 = await runtime.start(spec('b0', b));
    expect(await scaleOf(b)).toBe(1);
    if (faults) {
      faults.dropWatches();
      faults.conflictNext('replicasets', 2);
    }
    await runtime.stop(a0, { timeoutSeconds: 2 });
    await runtime.remove(a0);
    expect(await scaleOf(a)).toBe(1);
    const b1 = await runtime.start(spec('b1', b));
    if (faults) faults.compact();
    await runtime.stop(a1, { timeoutSeconds: 2 });
    // The last slot gone, the ReplicaSet goes too.
    expect(await scaleOf(a)).toBeUndefined();
    expect(await scaleOf(b)).toBe(2);

    // The cache caught up after every fault: exactly b0 and b1, each once, and running.
    const now = await eventuallyList(async () => {
      const list = await runtime.list({ app, env: 'prod' });
      return list.length === 2 && list.every((i) => i.state === 'running') ? list : undefined;
    });
    expect(now.map((i) => i.slot).sort()).toEqual(['b0', 'b1']);
    // The pod watch really was cut and came back (reconnects, and relists after the 410s).
    if (faults) {
      expect(runtime.pods.connects).toBeGreaterThan(connects + 1);
      expect(runtime.pods.lists).toBeGreaterThan(lists);
    }
    expect(now.map((i) => i.id).sort()).toEqual([b0.id, b1.id].sort());
    const ready = await eventuallyList(async () => {
      const r = now.map((i) => runtime.probes.ready(i));
      return r.every((x) => x?.ready) ? r : undefined;
    });
    expect(ready).toHaveLength(2);
    for (const i of now) {
      expect((await runtime.probes.httpGet(i, '/healthz', 2_000)).status).toBe(200);
      expect((await runtime.probes.httpGet(i, '/cgi-bin/status?404', 2_000)).status).toBe(404);
    }
    for (const i of now) await runtime.remove(i);
    expect(await scaleOf(b)).toBeUndefined();
  }, 180_000);

  it('lists the pod of a slot whose claim was interrupted, and start adopts that same pod', async () => {
    const e = 'e'.repeat(40);
    await runtime.start(spec('e0', e));
    // As if a controller died right after adding slot e1 to the ReplicaSet, before the claim.
    const apps = adminKubeConfigOf(cluster).makeApiClient(AppsV1Api);
    const { slotsPatch } = await import('../../src/runtime/kubernetes/replica-sets.js');
    const { MERGE_PATCH } = await import('../../src/runtime/kubernetes/kube-client.js');
    await apps.patchNamespacedReplicaSet(
      {
        name: replicaSetName(app, 'prod', e),
        namespace: cluster.namespace,
        body: slotsPatch(['e0', 'e1'], undefined),
      },
      MERGE_PATCH,
    );
    const orphan = await eventuallyList(async () =>
      (await runtime.list({ app, env: 'prod' })).find((i) => i.slot === 'e1'),
    );
    const adopted = await runtime.start(spec('e1', e));
    expect(adopted.id).toBe(orphan.id);
    expect(await scaleOf(e)).toBe(2);
    for (const i of await runtime.list({ app, env: 'prod' })) await runtime.remove(i);
    expect(await scaleOf(e)).toBeUndefined();
  }, 120_000);

  it('reports a crash loop as restarting, and an image that cannot be pulled as dead, with the reason in the evidence', async () => {
    const c = 'c'.repeat(40);
    const crash = await runtime.start(spec('c0', c, { vars: { MODE: 'crash' } }));
    const looping = await eventuallyList(async () => {
      const i = (await runtime.list({ app })).find((x) => x.id === crash.id);
      return i && i.restartCount >= 2 ? i : undefined;
    });
    expect(['restarting', 'exited']).toContain(looping.state);
    expect(looping.exitCode).toBe(3);
    const crashWhy = await eventuallyList(async () => {
      const lines = await runtime.evidence(looping);
      return lines.some((l) => l.includes('CrashLoopBackOff')) ? lines : undefined;
    });
    expect(crashWhy.join('\n')).toMatch(/exit 3/);
    await runtime.remove(looping);

    const missing = image.replace(/@sha256:[0-9a-f]{64}$/, `@sha256:${'0'.repeat(64)}`);
    const d = 'd'.repeat(40);
    const pull = await runtime.start(spec('d0', d, { image: missing }));
    const dead = await eventuallyList(async () => {
      const i = (await runtime.list({ app })).find((x) => x.id === pull.id);
      return i?.state === 'dead' ? i : undefined;
    });
    const pullWhy = await runtime.evidence(dead);
    expect(pullWhy.join('\n')).toContain('ImagePullBackOff');
    await runtime.remove(dead);
    expect(await runtime.list({ app })).toEqual([]);
  }, 180_000);
});

describe('Kubernetes runtime: an API server that goes away', () => {
  it('answers list from its cache for a while, then fails instead of serving a stale picture', async () => {
    const env = testEnv();
    const cluster = await startTestCluster(join(env.runDir, uniqueName('kgone')));
    if (cluster.kind !== 'simulator') return; // cannot take a real cluster away
    const runtime = new KubernetesRuntime({
      kc: kubeConfigOf(cluster),
      namespace: cluster.namespace,
      staleAfterMs: 1_000,
    });
    try {
      await runtime.connect();
      expect(await runtime.list({ app: 'nothing' })).toEqual([]);
      await cluster.close();
      const err = await eventuallyList(async () => {
        try {
          await runtime.list({ app: 'nothing' });
          return undefined;
        } catch (e) {
          return e;
        }
      }, 30_000);
      expect(isGantryError(err, 'GANTRY_ERR_KUBERNETES_UNAVAILABLE')).toBe(true);
      expect(String(err)).toMatch(/watch of pods has been down/);
    } finally {
      runtime.close();
    }
  }, 60_000);
});

async function eventuallyList<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
