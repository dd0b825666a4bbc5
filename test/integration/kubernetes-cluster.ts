/**
 * The cluster the Kubernetes tests run against: the API-server simulator (test/kube-sim) by
 * default; with `GANTRY_KUBE=real`, the real control plane of test/kube (kube-apiserver, etcd,
 * controller-manager and scheduler built by scripts/kube-infra.sh, pods run by the test node
 * agent), a namespace of its own per call; or the cluster of `KUBECONFIG` when that is set (its
 * current context; namespace `GANTRY_TEST_NAMESPACE`, default `gantry-test`; its nodes must be
 * able to pull from the test registry). Faults: injected into the simulator, provoked for real on
 * the real control plane (test/kube/faults.ts); `faults` is undefined on a cluster of KUBECONFIG.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.js';
import { RBAC_RULES } from '../../src/runtime/kubernetes/rbac.js';
import { buildContractImage } from '../contract/runtime-contract.js';
import { testEnv } from '../support/env.js';
import { startKubeSim, type KubeSimFaults } from '../kube-sim/index.js';
import { startRealTestCluster } from '../kube/index.js';

export interface TestCluster {
  readonly kind: 'simulator' | 'real' | 'cluster';
  readonly namespace: string;
  /** A kubeconfig file for the controller config (`runtime.kubeconfig`): on the simulator its user holds only the chart's Role (`RBAC_RULES`). */
  readonly kubeconfig: string;
  /** A kubeconfig file for the tests' own set-up and checks (unrestricted). */
  readonly adminKubeconfig: string;
  /** On the simulator: what the controller's user was allowed and refused (`group/resource:verb`). */
  readonly rbac: { allowed(): string[]; denied(): string[] } | undefined;
  readonly faults: KubeSimFaults | undefined;
  close(): Promise<void>;
}

/** Which cluster `startTestCluster` starts: `GANTRY_KUBE=real` for the real control plane. */
export function clusterProvider(): 'simulator' | 'real' | 'cluster' {
  if (process.env.GANTRY_KUBE === 'real') return 'real';
  return process.env.KUBECONFIG ? 'cluster' : 'simulator';
}

export async function startTestCluster(dir: string): Promise<TestCluster> {
  if (clusterProvider() === 'real') {
    const real = await startRealTestCluster(dir);
    return {
      kind: 'real',
      namespace: real.namespace,
      kubeconfig: real.kubeconfig,
      adminKubeconfig: real.adminKubeconfig,
      // The API server's own RBAC enforces the chart's Role: a refused call fails the suite.
      rbac: undefined,
      // Provoked for real: API server restarts, etcd compaction, concurrent writers.
      faults: real.faults,
      close: () => real.close(),
    };
  }
  const real = process.env.KUBECONFIG;
  if (real) {
    return {
      kind: 'cluster',
      namespace: process.env.GANTRY_TEST_NAMESPACE ?? 'gantry-test',
      kubeconfig: real,
      adminKubeconfig: real,
      rbac: undefined,
      faults: undefined,
      close: async () => undefined,
    };
  }
  const sim = await startKubeSim({
    namespace: 'gantry',
    probeScale: 0.2,
    backoffBaseMs: 500,
    backoffMaxMs: 2_000,
    // The controller's user holds exactly the Role the Helm chart grants, enforced as RBAC is.
    rbac: RBAC_RULES,
  });
  await mkdir(dir, { recursive: true });
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeFile(kubeconfig, sim.kubeconfigYaml, { mode: 0o600 });
  const adminKubeconfig = join(dir, 'admin-kubeconfig.yaml');
  await writeFile(adminKubeconfig, sim.adminKubeconfigYaml, { mode: 0o600 });
  return {
    kind: 'simulator',
    namespace: sim.namespace,
    kubeconfig,
    adminKubeconfig,
    rbac: sim.rbac,
    faults: sim.faults,
    close: () => sim.close(),
  };
}

/** A test cluster with the contract image built, a connected runtime, and the admin kubeconfig. */
export interface RuntimeOnCluster {
  readonly cluster: TestCluster;
  readonly runtime: KubernetesRuntime;
  /** Unrestricted, for the tests' own checks. */
  readonly admin: KubeConfig;
  readonly image: string;
  /** Removes the app's instances, stops the runtime and the cluster. */
  close(): Promise<void>;
}

/** Starts a cluster and a runtime on it for `app` (its instances are removed on close). */
/** A Kubernetes runtime connected as the chart's identity, and the admin's config beside it. */
export async function connectRuntime(
  cluster: TestCluster,
): Promise<{ runtime: KubernetesRuntime; admin: KubeConfig }> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const admin = new KubeConfig();
  admin.loadFromFile(cluster.adminKubeconfig);
  const runtime = new KubernetesRuntime({ kc, namespace: cluster.namespace });
  await runtime.connect();
  return { runtime, admin };
}

export async function startRuntimeOnCluster(app: string): Promise<RuntimeOnCluster> {
  const env = testEnv();
  const image = await buildContractImage({
    registry: env.registry,
    app: `${app}-img`,
    version: '1',
    dir: join(env.runDir, `${app}-img`),
  });
  const cluster = await startTestCluster(join(env.runDir, `${app}-kube`));
  const { runtime, admin } = await connectRuntime(cluster);
  return {
    cluster,
    runtime,
    admin,
    image,
    async close() {
      for (const i of await runtime.list({ app }).catch(() => [])) {
        await runtime.remove(i).catch(() => undefined);
      }
      runtime.close();
      await cluster.close();
    },
  };
}

/** The controller config line that deploys to `cluster` as the controller's user, draining briefly. */
export function kubernetesRuntimeLine(cluster: TestCluster): string {
  return `runtime: { kind: kubernetes, namespace: ${cluster.namespace}, kubeconfig: "${cluster.kubeconfig}", drainMs: 200 }`;
}

/** API clients with the admin kubeconfig, for the tests' own set-up and checks. */
export function adminApis(cluster: TestCluster): { apps: AppsV1Api; core: CoreV1Api } {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.adminKubeconfig);
  return { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api) };
}
