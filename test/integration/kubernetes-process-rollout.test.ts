/**
 * Process types through the full controller on the Kubernetes target (the real control plane
 * with GANTRY_KUBE=real, else the API-server simulator): a `web` and a `worker` from one image
 * roll out as one ReplicaSet each, the worker's pods have no port and are not behind the
 * Service; `gantry scale worker=3` adds worker pods and leaves web's alone; `gantry restart`
 * replaces every pod; a release whose worker crashes is rolled back as a whole. The CLI's real
 * output is logged (docs/cli.md and the README quote it).
 */
import path from 'node:path';
import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL, replicaSetName, serviceName } from '../../src/runtime/kubernetes/names.js';
import type { Instance } from '../../src/runtime/runtime.js';
import { testEnv } from '../support/env.js';
import {
  appName,
  finishedRollout,
  pushPageBuilt,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { gantry, type CliResult } from './cli-process.js';
import { WORKER_LOOP, readyProcesses, webAndWorkerSpec } from '../support/process-spec.js';
import {
  adminApis,
  kubernetesRuntimeLine,
  startTestCluster,
  type TestCluster,
} from './kubernetes-cluster.js';

/** Slower to start than on Docker: pods are scheduled, pulled and probed by the cluster. */
const spec = (app: string, worker: string): string =>
  webAndWorkerSpec(app, worker, ['rollout: { progressDeadline: 90s }']);

describe('web and worker through the controller on Kubernetes', () => {
  let f: Fixture;
  let cluster: TestCluster;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  const app = appName('kproc').slice(0, 16);
  let sha = '';
  let release: number | undefined;

  beforeAll(async () => {
    const env = testEnv();
    cluster = await startTestCluster(path.join(env.runDir, `${app}-kube`));
    ({ apps, core } = adminApis(cluster));
    f = await startFixture({
      deploy: true,
      config: [kubernetesRuntimeLine(cluster), 'reconcile: { interval: 3s, strayGrace: 2s }'],
    });
    await f.wt.write('gantry.yaml', spec(app, WORKER_LOOP));
  }, 120_000);

  afterAll(async () => {
    const runtime = f?.controller.runtime;
    if (runtime)
      for (const i of await runtime.list({ app }).catch(() => [])) {
        await runtime.remove(i).catch(() => undefined);
      }
    await f?.close();
    await cluster?.close();
  });

  /** The CLI as the deployer, its output logged for the docs; fails on a non-zero exit. */
  async function cli(args: string[]): Promise<CliResult> {
    const res = await gantry(args, { client: f.deployer });
    console.log(`$ gantry ${args.join(' ')}\n${res.stdout}${res.stderr}`);
    expect(res.code, res.stderr).toBe(0);
    return res;
  }

  /** Replicas of each of the app's ReplicaSets, by name. */
  async function replicaSets(): Promise<Record<string, number>> {
    const list = await apps.listNamespacedReplicaSet({
      namespace: cluster.namespace,
      labelSelector: `${LABEL.app}=${app}`,
    });
    return Object.fromEntries(
      list.items.map((rs) => [rs.metadata?.name ?? '?', rs.spec?.replicas ?? 0]),
    );
  }

  /** Names of the live pods the Service's route label selects. */
  async function routedPods(): Promise<Set<string>> {
    const pods = await core.listNamespacedPod({
      namespace: cluster.namespace,
      labelSelector: `${LABEL.route}=${app}--production`,
    });
    return new Set(
      pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? ''),
    );
  }

  /** Waits until `web` pods run, all routed and nothing else routed, and `worker` pods run. */
  async function formation(web: number, worker: number) {
    return waitFor(
      `web=${web} (routed) and worker=${worker} running`,
      async () => {
        const all = (await f.controller.runtime!.list({ app, env: 'production' })).filter(
          (i) => i.state === 'running',
        );
        const of = (p: string): Instance[] => all.filter((i) => (i.process ?? 'web') === p);
        const routed = await routedPods();
        const ok =
          of('web').length === web &&
          of('worker').length === worker &&
          routed.size === web &&
          of('web').every((i) => routed.has(i.name));
        if (!ok) return undefined;
        const ids = (p: string) =>
          of(p)
            .map((i) => i.id)
            .sort();
        return { web: ids('web'), worker: ids('worker'), all };
      },
      180_000,
    );
  }

  const rsNames = () => ({
    web: replicaSetName(app, 'production', sha, release),
    worker: replicaSetName(app, 'production', sha, release, 'worker'),
  });

  it('rolls web and worker out as one ReplicaSet each; the worker has no port and is not in the Service', async () => {
    sha = await pushPageBuilt(f, app, '<h1>web and worker</h1>\n', 'web and worker');
    const rec = await finishedRollout(f, app, sha);
    expect(rec.outcome, rec.reason).toBe('succeeded');
    release = (await f.controller.rollouts.env(app, 'production')).current?.release;
    const running = await formation(2, 1);

    const names = rsNames();
    expect(await replicaSets()).toEqual({ [names.web]: 2, [names.worker]: 1 });
    const web = await apps.readNamespacedReplicaSet({
      name: names.web,
      namespace: cluster.namespace,
    });
    const worker = await apps.readNamespacedReplicaSet({
      name: names.worker,
      namespace: cluster.namespace,
    });
    expect(worker.metadata?.labels?.[LABEL.process]).toBe('worker');
    expect(web.metadata?.labels?.[LABEL.process]).toBeUndefined();
    const webC = web.spec?.template?.spec?.containers[0];
    const workerC = worker.spec?.template?.spec?.containers[0];
    expect(webC?.ports?.map((p) => p.containerPort)).toEqual([8080]);
    expect(webC?.readinessProbe?.httpGet?.path).toBe('/healthz');
    expect(workerC?.ports).toBeUndefined();
    expect(workerC?.readinessProbe).toBeUndefined();
    expect(workerC?.args).toEqual(['sh', '-c', WORKER_LOOP]);
    expect(workerC?.env?.find((e) => e.name === 'GANTRY_PROCESS')?.value).toBe('worker');

    // The Service selects by the route label, which only web's pods carry.
    const svc = await core.readNamespacedService({
      name: serviceName(`${app}--production`),
      namespace: cluster.namespace,
    });
    expect(svc.spec?.selector).toMatchObject({ [LABEL.route]: `${app}--production` });
    const routed = await routedPods();
    for (const i of running.all) expect(routed.has(i.name)).toBe((i.process ?? 'web') === 'web');

    expect(await readyProcesses(f, app)).toEqual([
      { name: 'web', desired: 2, ready: 2, routed: true },
      { name: 'worker', desired: 1, ready: 1, routed: false },
    ]);
  }, 300_000);

  it('`gantry scale worker=3` adds worker pods to its ReplicaSet and leaves web pods alone', async () => {
    const before = await formation(2, 1);
    const res = await cli(['scale', app, 'worker=3']);
    expect(res.stdout).toContain(`scale worker=3 of ${sha.slice(0, 12)} (v`);
    const after = await formation(2, 3);
    expect(after.web).toEqual(before.web);
    for (const id of before.worker) expect(after.worker).toContain(id);
    // The scale's release shares the running one's instances: the same ReplicaSets, one bigger.
    const names = rsNames();
    expect(await replicaSets()).toEqual({ [names.web]: 2, [names.worker]: 3 });
    const status = await waitFor('gantry status with both counts', async () => {
      const r = await gantry(['status', app], { client: f.client });
      return r.stdout.includes('processes: web 2/2, worker 3/3') ? r.stdout : undefined;
    });
    console.log(`$ gantry status ${app}\n${status}`);
  }, 300_000);

  it('`gantry restart` replaces every pod of every process through the health gates', async () => {
    const before = await formation(2, 3);
    const res = await cli(['restart', app]);
    expect(res.stdout).toContain(`restart every process of ${sha.slice(0, 12)} (v`);
    const after = await formation(2, 3);
    for (const id of [...before.web, ...before.worker]) {
      expect([...after.web, ...after.worker]).not.toContain(id);
    }
    const names = rsNames();
    expect(await replicaSets()).toEqual({ [names.web]: 2, [names.worker]: 3 });
  }, 300_000);

  it('a release whose worker crashes is rolled back as a whole', async () => {
    const before = await formation(2, 3);
    await f.wt.write('gantry.yaml', spec(app, 'echo worker dies; exit 3'));
    const bad = await pushPageBuilt(f, app, '<h1>bad release</h1>\n', 'worker crashes');
    const rec = await finishedRollout(f, app, bad);
    console.log(`crashing worker on Kubernetes: ${rec.outcome}: ${rec.reason ?? ''}`);
    expect(rec.outcome).toBe('failed');
    expect(rec.reason).toMatch(/worker|restarted|exited/);
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(sha);
    // Nothing of the bad release stays; the old web and workers run in full, web still routed.
    const after = await formation(2, 3);
    expect(after.all.every((i) => i.revision === sha)).toBe(true);
    expect(after.web).toEqual(before.web);
    await waitFor('no ReplicaSet of the failed release', async () => {
      const names = rsNames();
      const now = await replicaSets();
      return Object.keys(now).sort().join() === [names.web, names.worker].sort().join()
        ? true
        : undefined;
    });
    await f.wt.write('gantry.yaml', spec(app, WORKER_LOOP));
  }, 300_000);

  it('`gantry history` lists the deploy, scale, restart and failed deploy with their releases', async () => {
    const res = await cli(['history', app]);
    const rows = res.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^WHEN\s+ENV\s+KIND\s+FROM→TO\s+RELEASE\s+COMMIT/);
    expect(rows.slice(1).map((r) => r.split(/\s{2,}/)[2])).toEqual([
      'deploy',
      'restart',
      'scale',
      'deploy',
    ]);
  }, 60_000);
});
