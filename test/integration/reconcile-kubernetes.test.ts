/**
 * Continuous reconciliation on the Kubernetes target (the API-server simulator, or the cluster of
 * KUBECONFIG), with the whole controller in-process: with no rollout running, a ReplicaSet scaled
 * up and down by hand (`kubectl scale`) and a Service selector edited by hand are put back, the
 * status says out of sync while the drift lasts, and every repair is on the environment timeline.
 * The resync is set far beyond the test's waits: the Kubernetes watches are what wake the
 * reconciler.
 */
import path from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MERGE_PATCH, rawGet } from '../../src/runtime/kubernetes/kube-client.js';
import {
  LABEL,
  MANAGED_BY,
  replicaSetName,
  serviceName,
} from '../../src/runtime/kubernetes/names.js';
import type { EnvStatus } from '../../src/store/records.js';
import { testEnv } from '../support/env.js';
import {
  appName,
  finishedRollout,
  pushBuilt,
  startExampleFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { startTestCluster, type TestCluster } from './kubernetes-cluster.js';

const ENV = 'production';
const REPLICAS = 3;

describe('reconciler on Kubernetes: hand edits put back', () => {
  let f: Fixture;
  let cluster: TestCluster;
  let admin: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  const app = appName('kheal').slice(0, 16);
  let sha = '';
  /** The environment's edge route (the Service's name and its pods' route label come from it). */
  let routeId = '';
  /** The release the rollout made (its ReplicaSet is named for it). */
  let release: number | undefined;

  beforeAll(async () => {
    const env = testEnv();
    cluster = await startTestCluster(path.join(env.runDir, `${app}-kube`));
    admin = new KubeConfig();
    admin.loadFromFile(cluster.adminKubeconfig);
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
    f = await startExampleFixture(app, {
      config: [
        `runtime: { kind: kubernetes, namespace: ${cluster.namespace}, kubeconfig: "${cluster.kubeconfig}", drainMs: 200 }`,
        // No resync within the test: only the watches (and probe verdicts) wake the reconciler.
        'reconcile: { interval: 10m, strayGrace: 2s }',
      ],
    });
    await f.wt.write('www/index.html', '<h1>held on kubernetes</h1>\n');
    const pushedAt = Date.now();
    sha = await pushBuilt(f, app, 'Held revision');
    const rec = await finishedRollout(f, app, sha);
    expect(rec.outcome, rec.reason).toBe('succeeded');
    const state = await f.controller.rollouts.env(app, ENV);
    routeId = state.route?.id ?? '';
    release = state.current?.release;
    expect(routeId).not.toBe('');
    await inLine('the first rollout', pushedAt);
  }, 240_000);

  afterAll(async () => {
    const runtime = f?.controller.runtime;
    if (runtime)
      for (const i of await runtime.list({ app }).catch(() => [])) await runtime.remove(i);
    await f?.close();
    await cluster?.close();
  });

  const rsName = () => replicaSetName(app, ENV, sha, release);
  const svcName = () => serviceName(routeId);

  async function replicas(): Promise<number | undefined> {
    const rs = await apps.readNamespacedReplicaSet({
      name: rsName(),
      namespace: cluster.namespace,
    });
    return rs.spec?.replicas;
  }

  /** What a user does with `kubectl scale rs/<name> --replicas=n`: a patch of the scale subresource. */
  async function scaleByHand(n: number): Promise<void> {
    await apps.patchNamespacedReplicaSetScale(
      { name: rsName(), namespace: cluster.namespace, body: { spec: { replicas: n } } },
      MERGE_PATCH,
    );
  }

  /** The app's page through the Service, as a client in the cluster reaches it. */
  async function throughService(): Promise<{ status: number; body: string }> {
    return rawGet(
      admin,
      `/api/v1/namespaces/${cluster.namespace}/services/${svcName()}:80/proxy/`,
      5_000,
    ).catch((e: unknown) => ({ status: 0, body: String(e) }));
  }

  /**
   * Back in line with the record: the ReplicaSet at its replicas, that many live pods, all of them
   * running and routed, the Service on its own selector and answering, then the status synced and
   * healthy from a pass that began once all that was so (an older one may predate the hand edit).
   */
  /**
   * Waits until the cluster is back in line and a status written since `since` (the change that
   * took it out) says synced and healthy. The reconciler writes when something happens (a watch,
   * a probe verdict), not on a timer: a status written since the change and saying so is the proof.
   */
  async function inLine(what: string, since: number): Promise<EnvStatus> {
    return waitFor(
      `${what}: ${REPLICAS} pods running and routed, status synced and healthy`,
      async () => {
        if ((await replicas()) !== REPLICAS) return undefined;
        const pods = (
          await core.listNamespacedPod({
            namespace: cluster.namespace,
            labelSelector: `${LABEL.app}=${app},${LABEL.env}=${ENV}`,
          })
        ).items.filter((p) => !p.metadata?.deletionTimestamp);
        if (pods.length !== REPLICAS) return undefined;
        const routed = pods.filter((p) => p.metadata?.labels?.[LABEL.route] === routeId);
        if (routed.length !== REPLICAS) return undefined;
        const svc = await core.readNamespacedService({
          name: svcName(),
          namespace: cluster.namespace,
        });
        expect(svc.spec?.selector).toBeDefined();
        if (
          JSON.stringify(svc.spec?.selector) !==
          JSON.stringify({ [LABEL.managed]: MANAGED_BY, [LABEL.route]: routeId })
        )
          return undefined;
        if ((await throughService()).status !== 200) return undefined;
        const status = await f.controller.rollouts.status(app, ENV);
        if (status?.sync.status !== 'synced' || status.health.status !== 'healthy')
          return undefined;
        return Date.parse(status.observedAt) >= since ? status : undefined;
      },
      90_000,
    );
  }

  /** Every status the reconciler writes while `during` runs (polled far faster than it writes). */
  async function statusesDuring(during: () => Promise<void>): Promise<EnvStatus[]> {
    const seen = new Map<string, EnvStatus>();
    let stop = false;
    const poll = (async () => {
      while (!stop) {
        const s = await f.controller.rollouts.status(app, ENV);
        if (s) seen.set(`${s.observedAt} ${s.sync.status} ${s.health.status}`, s);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      await during();
    } finally {
      stop = true;
      await poll;
    }
    return [...seen.values()];
  }

  async function timelineSince(at: number): Promise<string[]> {
    const events = await f.controller.rollouts.envEvents(app, ENV);
    return events.filter((e) => e.at >= at && e.kind === 'self-heal').map((e) => e.text);
  }

  function drifted(statuses: readonly EnvStatus[], detail: RegExp): EnvStatus[] {
    return statuses.filter(
      (s) =>
        s.sync.status === 'out-of-sync' &&
        s.sync.reasons.some((r) => r.reason === 'drift' && detail.test(r.detail)),
    );
  }

  it(`(f) a ReplicaSet scaled up by hand to ${REPLICAS + 2}: surplus shown, removed, back to ${REPLICAS}`, async () => {
    const before = new Set((await f.controller.runtime!.list({ app, env: ENV })).map((i) => i.id));
    const at = Date.now();
    const statuses = await statusesDuring(async () => {
      await scaleByHand(REPLICAS + 2);
      await inLine('after the scale-up', at);
    });
    const took = Date.now() - at;
    const surplus = drifted(statuses, /surplus/);
    console.log(
      `(f/i) back in line ${took} ms after the scale-up; statuses seen: ${statuses.map((s) => `${s.sync.status}/${s.health.status}`).join(' → ')}`,
    );
    expect(surplus.length, 'a status written during the drift says surplus').toBeGreaterThan(0);
    expect(surplus[0]!.instances.filter((i) => i.verdict === 'surplus')).toHaveLength(2);
    // The pods that served before are the ones still serving: only the extra ones went.
    const after = await f.controller.runtime!.list({ app, env: ENV });
    expect(after.map((i) => i.id).sort()).toEqual([...before].sort());
    const texts = await timelineSince(at);
    expect(texts.filter((t) => t.startsWith('self-heal: removed surplus'))).toHaveLength(2);
    expect(await replicas()).toBe(REPLICAS);
  }, 120_000);

  it(`(f) a ReplicaSet scaled down by hand to ${REPLICAS - 1}: the missing one shown, replaced, back to ${REPLICAS}`, async () => {
    const at = Date.now();
    const statuses = await statusesDuring(async () => {
      await scaleByHand(REPLICAS - 1);
      await inLine('after the scale-down', at);
    });
    console.log(
      `(f/ii) back in line ${Date.now() - at} ms after the scale-down; statuses seen: ${statuses.map((s) => `${s.sync.status}/${s.health.status}`).join(' → ')}`,
    );
    const missing = drifted(
      statuses,
      new RegExp(`${REPLICAS - 1} of ${REPLICAS} replicas healthy`),
    );
    expect(
      missing.length,
      'a status written during the drift says a replica is missing',
    ).toBeGreaterThan(0);
    expect(missing.some((s) => ['progressing', 'degraded'].includes(s.health.status))).toBe(true);
    const texts = await timelineSince(at);
    expect(
      texts.some((t) => /^self-heal: replaced \S+ with \S+, removed/.test(t)),
      texts.join('\n'),
    ).toBe(true);
    // Exactly one replacement: the slot the scale-down took was forgotten, not started again.
    expect(texts.filter((t) => t.startsWith('self-heal: removed surplus'))).toEqual([]);
    const slots = (
      await apps.readNamespacedReplicaSet({ name: rsName(), namespace: cluster.namespace })
    ).metadata?.annotations?.['gantry.dev/slots'];
    expect(slots?.split(',')).toHaveLength(REPLICAS);
  }, 120_000);

  it('(f) a Service selector edited by hand: the route shown out of line, the selector put back, the app answering again', async () => {
    expect((await throughService()).status).toBe(200);
    const at = Date.now();
    const statuses = await statusesDuring(async () => {
      // `kubectl edit svc`: the selector now picks pods nobody labelled.
      await core.patchNamespacedService(
        {
          name: svcName(),
          namespace: cluster.namespace,
          body: { spec: { selector: { [LABEL.route]: 'edited-by-hand', team: 'someone' } } },
        },
        MERGE_PATCH,
      );
      await inLine('after the selector edit', at);
    });
    console.log(
      `(f/iii) back in line ${Date.now() - at} ms after the selector edit; statuses seen: ${statuses.map((s) => `${s.sync.status}/${s.health.status}`).join(' → ')}`,
    );
    const unrouted = drifted(statuses, /not routed/);
    expect(
      unrouted.length,
      'a status written during the drift says the route is out of line',
    ).toBeGreaterThan(0);
    expect(unrouted[0]!.health.status).toBe('degraded');
    expect(unrouted[0]!.instances.filter((i) => !i.routed)).toHaveLength(REPLICAS);
    const texts = await timelineSince(at);
    expect(
      texts.some((t) => t.startsWith('self-heal: routed')),
      texts.join('\n'),
    ).toBe(true);
    const svc = await core.readNamespacedService({ name: svcName(), namespace: cluster.namespace });
    expect(svc.spec?.selector).toEqual({
      [LABEL.managed]: MANAGED_BY,
      [LABEL.route]: routeId,
    });
    expect((await throughService()).body).toContain('held on kubernetes');
  }, 120_000);

  it("needed nothing beyond the Helm chart's Role", () => {
    expect(cluster.rbac?.denied() ?? []).toEqual([]);
  });
});
