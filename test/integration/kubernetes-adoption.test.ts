/**
 * Gantry never adopts a same-named object it did not create (issue 12): a ReplicaSet or Service of
 * the name it would use, made by someone else, is refused with GANTRY_ERR_INSTANCE_CONFLICT naming
 * the object, and left exactly as it was (not scaled, not patched, not deleted). Against the
 * simulator by default, the real control plane with GANTRY_KUBE=real (kubernetes-cluster.ts).
 */
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesServiceEdge } from '../../src/edge/kubernetes/service-edge.js';
import { isGantryError } from '../../src/errors.js';
import { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.js';
import { replicaSetName, serviceName } from '../../src/runtime/kubernetes/names.js';
import type { InstanceSpec } from '../../src/runtime/runtime.js';
import { testEnv, uniqueName } from '../support/env.js';
import { connectRuntime, startTestCluster, type TestCluster } from './kubernetes-cluster.js';

const REVISION = 'cd'.repeat(20);
const ENV = 'prod';
/** Labels of an object another tool made (a Helm release, say). */
const FOREIGN = { 'app.kubernetes.io/managed-by': 'Helm', app: 'theirs' };

describe('Kubernetes: objects Gantry did not create are refused, not adopted', () => {
  let cluster: TestCluster;
  let runtime: KubernetesRuntime;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  const app = uniqueName('kadopt').slice(0, 14);

  beforeAll(async () => {
    const env = testEnv();
    cluster = await startTestCluster(join(env.runDir, `${app}-kube`));
    let admin;
    ({ runtime, admin } = await connectRuntime(cluster));
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
  }, 120_000);

  afterAll(async () => {
    runtime?.close();
    await cluster?.close();
  });

  it('refuses a same-named ReplicaSet and leaves its replicas and annotations alone', async () => {
    const name = replicaSetName(app, ENV, REVISION, 1);
    const labels = { app: 'theirs' };
    await apps.createNamespacedReplicaSet({
      namespace: cluster.namespace,
      body: {
        metadata: { name, labels: FOREIGN },
        spec: {
          replicas: 0,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'c', image: 'busybox:theirs' }] },
          },
        },
      },
    });
    const spec = {
      app,
      env: ENV,
      revision: REVISION,
      release: 1,
      rolloutId: 'r-1',
      slot: 's-1',
      image: 'registry.invalid/x@sha256:' + '0'.repeat(64),
      port: 8080,
      vars: {},
      secrets: {},
      host: cluster.namespace,
    } satisfies InstanceSpec;
    const err: unknown = await runtime.start(spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGantryError(err, 'GANTRY_ERR_INSTANCE_CONFLICT')).toBe(true);
    expect(String(err)).toContain(`replicaset ${cluster.namespace}/${name}`);
    expect(String(err)).toContain('not created by Gantry');
    const after = await apps.readNamespacedReplicaSet({ name, namespace: cluster.namespace });
    expect(after.spec?.replicas).toBe(0);
    expect(after.metadata?.labels).toEqual(FOREIGN);
    expect(Object.keys(after.metadata?.annotations ?? {})).toEqual([]);
  }, 90_000);

  it('refuses a same-named Service, and removing the route leaves it', async () => {
    const routeId = `${app}--${ENV}`;
    const name = serviceName(routeId);
    await core.createNamespacedService({
      namespace: cluster.namespace,
      body: {
        metadata: { name, labels: FOREIGN },
        spec: { selector: { app: 'theirs' }, ports: [{ port: 9999, targetPort: 9999 }] },
      },
    });
    const edge = new KubernetesServiceEdge({
      kube: runtime.kube,
      pods: runtime.pods,
      services: runtime.services,
    });
    const err: unknown = await edge
      .ensureRoute({ id: routeId, listen: { host: '0.0.0.0', port: 8080 } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isGantryError(err, 'GANTRY_ERR_INSTANCE_CONFLICT')).toBe(true);
    expect(String(err)).toContain(`service ${cluster.namespace}/${name}`);
    await edge.removeRoute(routeId);
    const after = await core.readNamespacedService({ name, namespace: cluster.namespace });
    expect(after.spec?.ports?.[0]?.port).toBe(9999);
    expect(after.spec?.selector).toEqual({ app: 'theirs' });
    expect(after.metadata?.labels).toEqual(FOREIGN);
  }, 60_000);
});
