/**
 * Two targets in one controller: staging on a Docker host group (served through Caddy),
 * production on the Kubernetes control plane (the simulator, or the real one with
 * GANTRY_KUBE=real). A push deploys staging; promote moves the same digest to production's pods;
 * one history, one API for both; a gantry.yaml naming a target the controller lacks is refused
 * at its file:line:col.
 */
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import { LABEL } from '../../src/runtime/kubernetes/names.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import type { BuildRecord, EnvState, RolloutRecord } from '../../src/store/records.js';
import { testEnv } from '../support/env.js';
import {
  appName,
  exampleSpec,
  finishedBuild,
  finishedRollout,
  pushBranch,
  rolloutEnded,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { startTestCluster, type TestCluster } from './kubernetes-cluster.js';

const SOCK = 'unix:///var/run/docker.sock';

describe('targets: staging on Docker, production on Kubernetes, one controller', () => {
  let f: Fixture;
  let cluster: TestCluster;
  let core: CoreV1Api;
  const app = appName('tgt').slice(0, 16);
  let staged = '';

  /** gantry.yaml with both environments, production on `prodTarget`. */
  async function spec(prodTarget: string): Promise<string> {
    const base = (await exampleSpec(app)).replace(/\nenvironments:[\s\S]*$/, '\n');
    return [
      base.replace('replicas: 3', 'replicas: 2').trimEnd(),
      'environments:',
      '  staging: { branch: staging, target: hosts }',
      `  production: { branch: main, target: ${prodTarget} }`,
      '',
    ].join('\n');
  }

  const pushStaging = (message: string) => pushBranch(f, 'staging', message);

  beforeAll(async () => {
    const env = testEnv();
    cluster = await startTestCluster(path.join(env.runDir, `${app}-kube`));
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.adminKubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    f = await startFixture({
      deploy: true,
      logFile: process.env.TARGETS_LOG,
      repo: ['branches: [main, staging]'],
      config: [
        'targets:',
        `  hosts: { docker: { hosts: [{ name: local, endpoint: "${SOCK}" }] } }`,
        `  cluster: { kubernetes: { namespace: ${cluster.namespace}, kubeconfig: "${cluster.kubeconfig}", drainMs: 200 } }`,
      ],
    });
    await f.wt.write('gantry.yaml', await spec('cluster'));
    // The repo's HEAD (main) must exist for fetches; no webhook, so production waits for promote.
    await f.push('github', 'initial', { webhook: false });
  }, 120_000);

  afterAll(async () => {
    await f?.close();
    // The controller is gone: its containers are found by their labels on the shared engine.
    const docker = new DockerRuntime({
      hosts: [{ name: 'local', endpoint: SOCK }],
      registry: { address: testEnv().registry },
    });
    for (const i of await docker.list({ app }).catch(() => [])) await docker.remove(i);
    await cluster?.close();
  });

  it('deploys a staging push to the Docker target, served through Caddy', async () => {
    await f.wt.write('www/index.html', '<h1>one digest, two targets</h1>\n');
    staged = await pushStaging('staging on Docker');
    expect((await finishedBuild(f, app, staged)).status).toBe('succeeded');
    const rec = await finishedRollout(f, app, staged, 'staging');
    expect(rec.outcome, rec.reason).toBe('succeeded');
    expect(rec.target).toBe('hosts');
    const state = await f.controller.rollouts.env(app, 'staging');
    expect(state.target).toBe('hosts');
    const body = await waitFor('the page through the edge', async () => {
      const res = await fetch(state.route!.url).catch(() => undefined);
      const text = res?.ok ? await res.text() : '';
      return text.includes('one digest, two targets') ? text : undefined;
    });
    expect(body).toContain('one digest, two targets');
    // Containers on the Docker engine, nothing of the app in the cluster yet.
    const containers = await f.controller.runtime!.list({ app, env: 'staging' });
    expect(containers.map((i) => i.host)).toEqual(['local', 'local']);
    const pods = await core.listNamespacedPod({
      namespace: cluster.namespace,
      labelSelector: `${LABEL.app}=${app}`,
    });
    expect(pods.items).toEqual([]);
  }, 240_000);

  it('promotes staging to production on Kubernetes by the same digest', async () => {
    const res = await api<{ rolloutId: string; image: string }>(
      f.deployer,
      `/api/apps/${app}/promote`,
      { method: 'POST', body: JSON.stringify({ from: 'staging', to: 'production' }) },
    );
    const rec = await rolloutEnded(f, res.rolloutId);
    expect(rec.outcome, rec.reason).toBe('succeeded');
    expect(rec.target).toBe('cluster');
    const staging = (await f.controller.rollouts.env(app, 'staging')).current!;
    const production = (await f.controller.rollouts.env(app, 'production')).current!;
    expect(production.sha).toBe(staged);
    expect(production.image).toBe(staging.image);
    expect(production.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    // Pods in the namespace, running that digest; the containers still run it on Docker.
    const pods = await waitFor('2 running pods', async () => {
      const list = await core.listNamespacedPod({
        namespace: cluster.namespace,
        labelSelector: `${LABEL.app}=${app}`,
      });
      const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
      return live.length === 2 && live.every((p) => p.status?.phase === 'Running')
        ? live
        : undefined;
    });
    expect(pods.map((p) => p.spec?.containers[0]?.image)).toEqual([staging.image, staging.image]);
    const onDocker = await f.controller.runtime!.list({ app, env: 'staging' });
    expect(onDocker.map((i) => i.image)).toEqual([staging.image, staging.image]);
  }, 240_000);

  it('shows both environments, each on its target, in one history and one API', async () => {
    const { environments, rollouts } = await api<{
      environments: (EnvState & { status: { health: { status: string } } })[];
      rollouts: RolloutRecord[];
    }>(f.client, `/api/apps/${app}/rollouts`);
    expect(
      Object.fromEntries(environments.map((e) => [e.env, [e.target, e.current?.sha]])),
    ).toEqual({ staging: ['hosts', staged], production: ['cluster', staged] });
    expect(rollouts.map((r) => [r.env, r.target, r.outcome])).toEqual([
      ['production', 'cluster', 'succeeded'],
      ['staging', 'hosts', 'succeeded'],
    ]);
    // The reconciler holds each environment on its own target: both become healthy.
    for (const env of ['staging', 'production']) {
      await waitFor(`${env} healthy`, async () => {
        const s = await f.controller.rollouts.status(app, env);
        return s?.health.status === 'healthy' ? true : undefined;
      });
    }
    // Instance logs across targets: the containers' and the pods'.
    const { instances } = await api<{ instances: { env: string; host: string }[] }>(
      f.client,
      `/api/apps/${app}/logs?lines=5`,
    );
    expect(instances.map((i) => i.env).sort()).toEqual([
      'production',
      'production',
      'staging',
      'staging',
    ]);
  }, 240_000);

  it("prunes production on its own target: the pods go, staging's containers stay", async () => {
    const res = await api<{ instances: number; forced: boolean }>(
      f.deployer,
      `/api/apps/${app}/prune`,
      { method: 'POST', body: JSON.stringify({ env: 'production', force: true }) },
    );
    expect(res).toMatchObject({ instances: 2, forced: true });
    await waitFor('no pods of the app', async () => {
      const list = await core.listNamespacedPod({
        namespace: cluster.namespace,
        labelSelector: `${LABEL.app}=${app}`,
      });
      return list.items.every((p) => p.metadata?.deletionTimestamp) ? true : undefined;
    });
    const onDocker = await f.controller.runtime!.list({ app, env: 'staging' });
    expect(onDocker.map((i) => i.state)).toEqual(['running', 'running']);
  }, 120_000);

  it('refuses a gantry.yaml naming a target the controller lacks, at its file:line:col', async () => {
    await f.wt.write('gantry.yaml', await spec('prod-k8z'));
    const sha = await pushStaging('production on a target that does not exist');
    const build: BuildRecord = await finishedBuild(f, app, sha);
    expect(build.status).toBe('failed');
    const lines = (await spec('prod-k8z')).split('\n');
    const line = lines.findIndex((l) => l.includes('prod-k8z'));
    const col = lines[line]!.indexOf('prod-k8z') + 1;
    expect(build.failure?.message).toContain(
      `gantry.yaml:${line + 1}:${col}: environments.production.target names target "prod-k8z", which this controller does not have (its targets: hosts, cluster)`,
    );
    // Nothing moved.
    expect((await f.controller.rollouts.env(app, 'staging')).current?.sha).toBe(staged);
  }, 120_000);
});
