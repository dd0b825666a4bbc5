/**
 * Releases on the Kubernetes runtime, against the API-server simulator (or the cluster of
 * KUBECONFIG): two releases of one commit with different config run side by side as two
 * ReplicaSets, each pod with its own release's vars and secret values (from the release's own
 * immutable Secret); a release's last instance removed takes its ReplicaSet and Secret with it; a
 * rollback gets the old values back; a ReplicaSet from before releases keeps working beside them.
 */
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import { rawGet } from '../../src/runtime/kubernetes/kube-client.js';
import { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.js';
import { LABEL, replicaSetName, secretName } from '../../src/runtime/kubernetes/names.js';
import type { Instance, InstanceSpec } from '../../src/runtime/runtime.js';
import { CONTRACT_APP_PORT, buildContractImage } from '../contract/runtime-contract.js';
import { testEnv, uniqueName } from '../support/env.js';
import { startTestCluster, type TestCluster } from './kubernetes-cluster.js';

const REVISION = 'ab'.repeat(20);
const ENV = 'prod';

/** What each release carries: its config vars and secret values. */
const CONFIG = {
  1: { vars: { GREETING: 'hello-from-v1' }, secrets: { API_TOKEN: 'token-v1-7c1e' } },
  2: { vars: { GREETING: 'hello-from-v2' }, secrets: { API_TOKEN: 'token-v2-93ad' } },
} as const;

describe('Kubernetes runtime: releases', () => {
  let cluster: TestCluster;
  let kc: KubeConfig;
  let runtime: KubernetesRuntime;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let image: string;
  const app = uniqueName('krel').slice(0, 14);

  beforeAll(async () => {
    const env = testEnv();
    image = await buildContractImage({
      registry: env.registry,
      app: `${app}-img`,
      version: '1',
      dir: join(env.runDir, `${app}-img`),
    });
    cluster = await startTestCluster(join(env.runDir, `${app}-kube`));
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const admin = new KubeConfig();
    admin.loadFromFile(cluster.adminKubeconfig);
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
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

  function spec(slot: string, release: 1 | 2 | undefined, over: Partial<InstanceSpec> = {}) {
    const config = release === undefined ? { vars: {}, secrets: {} } : CONFIG[release];
    return {
      app,
      env: ENV,
      revision: REVISION,
      rolloutId: `r-${release ?? 'legacy'}`,
      slot,
      image,
      port: CONTRACT_APP_PORT,
      vars: { ...config.vars },
      secrets: { ...config.secrets },
      host: cluster.namespace,
      readiness: { check: { kind: 'http', path: '/healthz' }, intervalMs: 1000, timeoutMs: 1000 },
      ...(release === undefined ? {} : { release }),
      ...over,
    } satisfies InstanceSpec;
  }

  const rsOf = (release?: number) =>
    apps
      .readNamespacedReplicaSet({
        name: replicaSetName(app, ENV, REVISION, release),
        namespace: cluster.namespace,
      })
      .catch(() => undefined);
  const secretOf = (release: number) =>
    core
      .readNamespacedSecret({
        name: secretName(app, ENV, release),
        namespace: cluster.namespace,
      })
      .catch(() => undefined);

  /** The app's `/cgi-bin/info` through the pod proxy: what the process sees as GREETING. */
  async function greetingOf(instance: Instance): Promise<string | undefined> {
    const res = await rawGet(
      kc,
      `/api/v1/namespaces/${cluster.namespace}/pods/${instance.name}:${CONTRACT_APP_PORT}/proxy/cgi-bin/info`,
      2_000,
    );
    return res.status === 200 ? /greeting=(\S*)/.exec(res.body)?.[1] : undefined;
  }

  /**
   * The value of API_TOKEN as the pod gets it: the Secret its spec refers to, and on the simulator
   * the environment of the pod's container itself.
   */
  async function tokenOf(
    instance: Instance,
  ): Promise<{ ref: string; value: string; process?: string }> {
    const pod: V1Pod = await core.readNamespacedPod({
      name: instance.name,
      namespace: cluster.namespace,
    });
    const ref = pod.spec?.containers[0]?.env?.find((e) => e.name === 'API_TOKEN')?.valueFrom
      ?.secretKeyRef?.name;
    if (ref === undefined) throw new Error(`pod ${instance.name} has no API_TOKEN from a Secret`);
    const secret = await core.readNamespacedSecret({ name: ref, namespace: cluster.namespace });
    const value = Buffer.from(secret.data?.API_TOKEN ?? '', 'base64').toString('utf8');
    if (cluster.kind !== 'simulator') return { ref, value };
    const [c] = await new Docker().listContainers({
      filters: { label: [`io.kubernetes.pod.name=${instance.name}`] },
    });
    if (c === undefined) throw new Error(`no container for pod ${instance.name}`);
    const env = (await new Docker().getContainer(c.Id).inspect()).Config.Env;
    const process = env.find((e) => e.startsWith('API_TOKEN='))?.slice('API_TOKEN='.length);
    return { ref, value, ...(process === undefined ? {} : { process }) };
  }

  async function running(slot: string): Promise<Instance> {
    return eventually(async () => {
      const i = (await runtime.list({ app, env: ENV })).find((x) => x.slot === slot);
      return i?.state === 'running' && (await greetingOf(i)) !== undefined ? i : undefined;
    });
  }

  it('runs two releases of one commit side by side, each with its own vars and secret values', async () => {
    const v1 = await runtime.start(spec('v1-0', 1));
    const v2 = await runtime.start(spec('v2-0', 2));
    // A spec from before releases, of the same commit: its ReplicaSet has no release label and
    // (by its selector) would match the releases' pods, yet counts only its own.
    const old = await runtime.start(spec('old-0', undefined));
    expect([v1.release, v2.release, old.release]).toEqual([1, 2, null]);

    const [rs1, rs2, rsOld] = [await rsOf(1), await rsOf(2), await rsOf()];
    expect(rs1?.metadata?.labels?.[LABEL.release]).toBe('1');
    expect(rs2?.metadata?.labels?.[LABEL.release]).toBe('2');
    expect(rs1?.spec?.template?.metadata?.labels?.[LABEL.release]).toBe('1');
    expect(rsOld?.metadata?.labels?.[LABEL.release]).toBeUndefined();
    for (const rs of [rs1, rs2, rsOld]) {
      expect(rs?.metadata?.labels?.[LABEL.revision]).toBe(REVISION);
      expect(rs?.spec?.replicas).toBe(1);
    }

    const listed = await eventually(async () => {
      const list = await runtime.list({ app, env: ENV });
      return list.length === 3 && list.every((i) => i.state === 'running') ? list : undefined;
    });
    expect(listed.map((i) => [i.slot, i.release]).sort()).toEqual([
      ['old-0', null],
      ['v1-0', 1],
      ['v2-0', 2],
    ]);

    for (const [instance, release] of [
      [await running('v1-0'), 1],
      [await running('v2-0'), 2],
    ] as const) {
      expect(await greetingOf(instance)).toBe(CONFIG[release].vars.GREETING);
      const token = await tokenOf(instance);
      expect(token.ref).toBe(secretName(app, ENV, release));
      expect(token.value).toBe(CONFIG[release].secrets.API_TOKEN);
      if (cluster.kind === 'simulator') expect(token.process).toBe(token.value);
      const secret = await secretOf(release);
      expect(secret?.immutable).toBe(true);
      expect(secret?.metadata?.labels?.[LABEL.release]).toBe(String(release));
      const rs = release === 1 ? rs1 : rs2;
      expect(secret?.metadata?.ownerReferences?.map((r) => [r.kind, r.uid])).toEqual([
        ['ReplicaSet', rs?.metadata?.uid],
      ]);
    }
    // The values are in the Secrets only: never in what the runtime reports.
    expect(JSON.stringify(listed)).not.toContain('token-v');

    // Release 1's last instance goes: its ReplicaSet and (by the garbage collector) its Secret.
    await runtime.remove(listed.find((i) => i.release === 1)!);
    expect(await rsOf(1)).toBeUndefined();
    await eventually(async () => ((await secretOf(1)) === undefined ? true : undefined));
    expect((await secretOf(2))?.metadata?.name).toBe(secretName(app, ENV, 2));
    expect((await rsOf(2))?.spec?.replicas).toBe(1);
    expect((await rsOf())?.spec?.replicas).toBe(1);

    // A rollback to release 1: a new ReplicaSet, a new Secret with release 1's values again.
    await runtime.start(spec('back-0', 1, { rolloutId: 'r-back' }));
    const back = await running('back-0');
    expect(back.release).toBe(1);
    expect(await greetingOf(back)).toBe(CONFIG[1].vars.GREETING);
    expect((await tokenOf(back)).value).toBe(CONFIG[1].secrets.API_TOKEN);

    for (const i of await runtime.list({ app, env: ENV })) await runtime.remove(i);
    expect([await rsOf(1), await rsOf(2), await rsOf()]).toEqual([undefined, undefined, undefined]);
    await eventually(async () =>
      (await secretOf(1)) === undefined && (await secretOf(2)) === undefined ? true : undefined,
    );
  }, 240_000);

  it('refuses a release Secret of the same name that Gantry did not create, and leaves it', async () => {
    const name = secretName(app, ENV, 2);
    await core.createNamespacedSecret({
      namespace: cluster.namespace,
      body: { metadata: { name }, stringData: { API_TOKEN: 'someone-elses' } },
    });
    try {
      const err = await runtime.start(spec('v2-foreign', 2)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isGantryError(err, 'GANTRY_ERR_INSTANCE_CONFLICT')).toBe(true);
      expect(String(err)).toContain(`secret ${name} was not created by Gantry`);
      expect(String(err)).not.toContain('someone-elses');
      // Nothing was started, and the Secret is as it was.
      expect(await rsOf(2)).toBeUndefined();
      const kept = await secretOf(2);
      expect(Buffer.from(kept?.data?.API_TOKEN ?? '', 'base64').toString()).toBe('someone-elses');
    } finally {
      await core.deleteNamespacedSecret({ name, namespace: cluster.namespace });
    }
  }, 60_000);
});

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
