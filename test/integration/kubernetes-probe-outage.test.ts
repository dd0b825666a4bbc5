/**
 * A health check through the pod proxy while the API server restarts (real control plane only:
 * the simulator's watch drop does not take the API server away). The pod is healthy throughout:
 * every check must either pass or give no verdict (the API server could not be asked) — never
 * fail — and at least one falls into the restart. This is what made rollouts roll back healthy
 * revisions before (docs/kubernetes.md).
 */
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxiedHttpProbe } from '../../src/health/proxied-probe.js';
import type { ProbeResult } from '../../src/health/probe-result.js';
import { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.js';
import type { Instance } from '../../src/runtime/runtime.js';
import { CONTRACT_APP_PORT, buildContractImage } from '../contract/runtime-contract.js';
import { testEnv, uniqueName } from '../support/env.js';
import { clusterProvider, startTestCluster, type TestCluster } from './kubernetes-cluster.js';

describe.runIf(clusterProvider() === 'real')('health checks while the API server restarts', () => {
  let cluster: TestCluster;
  let runtime: KubernetesRuntime;
  let instance: Instance;
  const app = uniqueName('kout').slice(0, 14);

  beforeAll(async () => {
    const env = testEnv();
    const image = await buildContractImage({
      registry: env.registry,
      app: `${app}-img`,
      version: '1',
      dir: join(env.runDir, `${app}-img`),
    });
    cluster = await startTestCluster(join(env.runDir, `${app}-kube`));
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    runtime = new KubernetesRuntime({ kc, namespace: cluster.namespace });
    await runtime.connect();
    const started = await runtime.start({
      app,
      env: 'prod',
      revision: 'ef'.repeat(20),
      rolloutId: 'r-1',
      slot: 's-1',
      image,
      port: CONTRACT_APP_PORT,
      vars: {},
      secrets: {},
      host: cluster.namespace,
      readiness: { check: { kind: 'http', path: '/healthz' }, intervalMs: 500, timeoutMs: 1000 },
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const now = (await runtime.list({ app })).find((i) => i.id === started.id);
      if (now?.state === 'running' && now.upstream !== undefined) {
        const r = await proxiedHttpProbe(runtime.probes, now, '/healthz', 200, 1_000);
        if (r.ok) {
          instance = now;
          break;
        }
      }
      if (Date.now() > deadline) throw new Error('the pod never answered its health check');
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 180_000);

  afterAll(async () => {
    if (instance) await runtime.remove(instance).catch(() => undefined);
    runtime?.close();
    await cluster?.close();
  });

  it('passes or gives no verdict, never fails, and passes again once the API server is back', async () => {
    const results: ProbeResult[] = [];
    cluster.faults?.dropWatches();
    const deadline = Date.now() + 120_000;
    // Until a check fell into the restart and a later one passed again.
    while (Date.now() < deadline) {
      const r = await proxiedHttpProbe(runtime.probes, instance, '/healthz', 200, 1_000);
      results.push(r);
      const away = results.findIndex((x) => x.noVerdict === true);
      if (away >= 0 && results.slice(away).some((x) => x.ok)) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const shown = results.map(
      (r) => `${r.ok ? 'pass' : r.noVerdict ? 'no verdict' : 'FAIL'}: ${r.detail}`,
    );
    expect(shown.filter((s) => s.startsWith('FAIL'))).toEqual([]);
    expect(
      results.some((r) => r.noVerdict === true),
      shown.join('\n'),
    ).toBe(true);
    expect(results.at(-1)?.ok, shown.join('\n')).toBe(true);
  }, 150_000);
});
