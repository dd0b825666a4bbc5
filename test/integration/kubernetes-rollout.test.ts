/**
 * The full controller on the Kubernetes target (the API-server simulator, or the cluster of
 * KUBECONFIG): the example app rolls out as ReplicaSets behind a Service, a revision failing its
 * health check is rolled back by itself with the evidence in the record, a one-click rollback
 * goes through the API, a crash-looping revision and an unpullable one are rolled back with
 * their Kubernetes reason, and a watch drop + 410 Gone + 409 conflicts in the middle of a rollout
 * still end with the right ReplicaSets at the right scale. The same history records as on Docker.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import { LABEL, replicaSetName, serviceName } from '../../src/runtime/kubernetes/names.js';
import { RBAC_RULES } from '../../src/runtime/kubernetes/rbac.js';
import { testEnv } from '../support/env.js';
import {
  EXAMPLE,
  appName,
  finishedRollout,
  pushBuilt,
  startExampleFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { startTestCluster, type TestCluster } from './kubernetes-cluster.js';

describe('rollouts on the Kubernetes target', () => {
  let f: Fixture;
  let cluster: TestCluster;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  const app = appName('kroll').slice(0, 16);
  const revs = { good: '', second: '', bad: '' };

  beforeAll(async () => {
    const env = testEnv();
    cluster = await startTestCluster(path.join(env.runDir, `${app}-kube`));
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.adminKubeconfig);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    f = await startExampleFixture(app, {
      config: [
        `runtime: { kind: kubernetes, namespace: ${cluster.namespace}, kubeconfig: "${cluster.kubeconfig}", drainMs: 200 }`,
      ],
    });
  }, 120_000);

  afterAll(async () => {
    const runtime = f?.controller.runtime;
    if (runtime)
      for (const i of await runtime.list({ app }).catch(() => [])) await runtime.remove(i);
    await f?.close();
    await cluster?.close();
  });

  /** Replicas of each of the app's ReplicaSets, by revision. */
  async function scales(): Promise<Record<string, number>> {
    const list = await apps.listNamespacedReplicaSet({
      namespace: cluster.namespace,
      labelSelector: `${LABEL.app}=${app}`,
    });
    return Object.fromEntries(
      list.items.map((rs) => [
        rs.metadata?.labels?.[LABEL.revision] ?? '?',
        rs.spec?.replicas ?? 0,
      ]),
    );
  }

  /** The running pods of a revision, once the ReplicaSet settled on exactly `n`. */
  async function settled(sha: string, n: number): Promise<void> {
    await waitFor(`${n} running pods of ${sha.slice(0, 12)} and nothing else`, async () => {
      const list = await f.controller.runtime!.list({ app, env: 'production' });
      const ok =
        list.length === n && list.every((i) => i.revision === sha && i.state === 'running');
      return ok || undefined;
    });
    expect(await scales()).toEqual({ [sha]: n });
  }

  /** The edge's view: exactly the pods of `sha` carry the Service's route label. */
  async function routedTo(sha: string, n: number): Promise<void> {
    const pods = await core.listNamespacedPod({
      namespace: cluster.namespace,
      labelSelector: `${LABEL.route}=${app}--production`,
    });
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live.map((p) => p.metadata?.labels?.[LABEL.revision])).toEqual(Array(n).fill(sha));
  }

  async function push(message: string, edit: () => Promise<void>): Promise<string> {
    await edit();
    return pushBuilt(f, app, message);
  }

  it('rolls the example app out as a ReplicaSet of 3 behind a Service', async () => {
    revs.good = await push('Good revision', () => f.wt.write('www/index.html', '<h1>good</h1>\n'));
    const rec = await finishedRollout(f, app, revs.good);
    expect(rec.outcome, rec.reason).toBe('succeeded');
    await settled(revs.good, 3);
    await routedTo(revs.good, 3);
    const svc = await core.readNamespacedService({
      name: serviceName(`${app}--production`),
      namespace: cluster.namespace,
    });
    expect(svc.spec?.selector).toMatchObject({ [LABEL.route]: `${app}--production` });
    const env = await f.controller.rollouts.env(app, 'production');
    expect(env.current?.sha).toBe(revs.good);
    expect(env.route?.url).toBe(
      `http://${serviceName(`${app}--production`)}.${cluster.namespace}.svc:80`,
    );
    // The template pins the image by digest.
    const rs = await apps.readNamespacedReplicaSet({
      name: replicaSetName(app, 'production', revs.good, env.current?.release),
      namespace: cluster.namespace,
    });
    // Labelled with the release the record says runs (image + config).
    const release = env.current?.release;
    expect(rs.metadata?.labels?.[LABEL.release]).toBe(
      release === undefined ? undefined : String(release),
    );
    const container = rs.spec?.template?.spec?.containers[0];
    expect(container?.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(container?.readinessProbe?.httpGet?.path).toBe('/healthz');
  }, 240_000);

  it('survives a watch drop, a 410 Gone and 409 conflicts mid-rollout and ends at the right scale', async () => {
    const faults = cluster.faults;
    revs.second = await push('Second revision', () =>
      f.wt.write('www/index.html', '<h1>second</h1>\n'),
    );
    // Inject while the rollout runs: once the new ReplicaSet exists.
    await waitFor('the second ReplicaSet', async () =>
      (await scales())[revs.second] !== undefined ? true : undefined,
    );
    if (faults) {
      faults.dropWatches();
      faults.compact();
      faults.conflictNext('replicasets', 3);
      faults.conflictNext('pods', 2);
    }
    await waitFor('a second pod of the new revision', async () =>
      ((await scales())[revs.second] ?? 0) >= 2 ? true : undefined,
    );
    if (faults) {
      faults.dropWatches();
      faults.conflictNext('replicasets', 2);
      faults.compact();
    }
    const rec = await finishedRollout(f, app, revs.second);
    expect(rec.outcome, rec.reason).toBe('succeeded');
    await settled(revs.second, 3);
    await routedTo(revs.second, 3);
  }, 240_000);

  it('rolls a revision failing its health check back by itself, with the evidence in the record', async () => {
    revs.bad = await push('Bad revision', async () => {
      await rm(path.join(f.wt.dir, 'www', 'healthz'));
      await f.wt.write('www/index.html', '<h1>bad</h1>\n');
    });
    const rec = await finishedRollout(f, app, revs.bad);
    expect(rec.outcome).toBe('failed');
    expect(rec.reason).toMatch(/healthz.*404/);
    const evidence = rec.failureLogs?.lines.join('\n') ?? '';
    expect(evidence).toMatch(/\[kubernetes\] pod .*: phase Running/);
    expect(evidence).toMatch(/response:404/); // busybox httpd -v logs the failing checks
    await settled(revs.second, 3);
    await routedTo(revs.second, 3);
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(revs.second);
  }, 240_000);

  it('rolls back by one click through the API to the previous healthy revision', async () => {
    const res = await api<{ rolloutId: string; env: string; to: string }>(
      f.deployer,
      `/api/apps/${app}/rollback`,
      { method: 'POST', body: JSON.stringify({}) },
    );
    expect(res.to).toBe(revs.good);
    const rec = await waitFor('the rollback to finish', async () => {
      const r = await f.controller.rollouts.get(res.rolloutId);
      return r?.outcome ? r : undefined;
    });
    expect(rec.kind).toBe('rollback');
    expect(rec.outcome, rec.reason).toBe('succeeded');
    await settled(revs.good, 3);
    await routedTo(revs.good, 3);
    // The same history records as on Docker: every rollout of the environment, newest first.
    const history = await f.controller.rollouts.list(app, 'production', 10);
    expect(history.map((r) => [r.kind, r.to.sha, r.outcome])).toEqual([
      ['rollback', revs.good, 'succeeded'],
      ['deploy', revs.bad, 'failed'],
      ['deploy', revs.second, 'succeeded'],
      ['deploy', revs.good, 'succeeded'],
    ]);
    // …and the same history API the dashboard and `gantry history` read: who asked, what runs.
    const { rollouts } = await api<{
      rollouts: {
        kind: string;
        running: boolean;
        trigger: { kind: string; actor?: string; via?: string };
        commit: { sha: string };
      }[];
    }>(f.client, `/api/history?app=${app}&env=production`);
    expect(rollouts[0]).toMatchObject({
      kind: 'rollback',
      running: true,
      trigger: { kind: 'manual', actor: 'ci', via: 'rollback' },
      commit: { sha: revs.good },
    });
  }, 240_000);

  it('rolls back a crash-looping revision with CrashLoopBackOff in the evidence', async () => {
    const dockerfile = await readFile(path.join(EXAMPLE, 'Dockerfile'), 'utf8');
    const sha = await push('Crashing revision', async () => {
      await f.wt.write('www/healthz', 'ok\n');
      await f.wt.write(
        'Dockerfile',
        dockerfile.replace(/^CMD .*$/m, 'CMD ["sh", "-c", "echo crashing on purpose; exit 3"]'),
      );
    });
    const rec = await finishedRollout(f, app, sha);
    expect(rec.outcome).toBe('failed');
    expect(rec.reason).toMatch(/restarted|exited/);
    const evidence = rec.failureLogs?.lines.join('\n') ?? '';
    expect(evidence).toMatch(/CrashLoopBackOff|last terminated: exit 3/);
    expect(evidence).toContain('crashing on purpose');
    await settled(revs.good, 3);
    await f.wt.write('Dockerfile', dockerfile);
  }, 240_000);

  it('rolls back a revision whose image cannot be pulled with ImagePullBackOff in the evidence', async () => {
    const faults = cluster.faults;
    if (!faults) return; // needs the simulator's failPull
    // A deploy freeze holds the rollout until the pull is made to fail.
    await api(f.deployer, `/api/apps/${app}/lock`, {
      method: 'POST',
      body: JSON.stringify({ env: 'production', reason: 'arming a pull failure' }),
    });
    const sha = await push('Unpullable revision', () =>
      f.wt.write('www/index.html', '<h1>unpullable</h1>\n'),
    );
    const image = (await f.controller.store.getRevision(app, sha))?.image?.pinned;
    expect(image).toBeDefined();
    faults.failPull(image ?? '');
    await api(f.deployer, `/api/apps/${app}/unlock`, {
      method: 'POST',
      body: JSON.stringify({ env: 'production' }),
    });
    const rec = await finishedRollout(f, app, sha);
    faults.allowPull(image ?? '');
    expect(rec.outcome).toBe('failed');
    expect(rec.failureLogs?.lines.join('\n')).toMatch(/ImagePullBackOff/);
    await settled(revs.good, 3);
  }, 240_000);

  it("needed nothing beyond the Helm chart's Role, which the simulator enforced throughout", () => {
    const rbac = cluster.rbac;
    if (!rbac) return; // a real cluster enforces its own RBAC
    expect(rbac.denied()).toEqual([]);
    // Everything the controller did above went through the rules it is granted.
    const granted = new Set(
      RBAC_RULES.flatMap((r) => r.verbs.map((v) => `${r.apiGroup || 'core'}/${r.resource}:${v}`)),
    );
    const used = rbac.allowed();
    expect(used.filter((u) => !granted.has(u))).toEqual([]);
    expect(used).toEqual(
      expect.arrayContaining([
        'apps/replicasets:create',
        'apps/replicasets:watch',
        'core/pods:watch',
        'core/pods/proxy:get',
        'core/services:create',
      ]),
    );
    console.log(`RBAC used by the controller: ${used.join(', ')}`);
    console.log(
      `granted but not used here: ${[...granted].filter((g) => !used.includes(g)).join(', ') || 'none'}`,
    );
  });
});
