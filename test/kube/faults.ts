/**
 * The simulator's fault interface, provoked for real on the real control plane:
 * - `dropWatches`: the API server is restarted (SIGTERM, started again): every watch is cut;
 *   the controller's connections go through `ApiProxy`, so calls made meanwhile wait for it;
 * - `endWatches`: every connection of the controller to the API server is reset;
 * - `compact` / `expireBefore`: etcd is compacted at its current revision; the API server runs
 *   without its watch cache, so a watch resumed from an older version gets 410 Gone from etcd;
 * - `conflictNext(plural, n)`: a concurrent writer updates every object of that kind in the
 *   namespace n times (an annotation), so writes conditioned on a version read before get 409;
 * - `failPull`: the only one not provoked for real — the node agent fails pulls of that image
 *   (a registry that refuses one digest and not others is not worth building).
 * The calls return at once, as the simulator's do; the faults happen in the background.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { MERGE_PATCH } from '../../src/runtime/kubernetes/kube-client.js';
import type { KubeSimFaults } from '../kube-sim/index.js';
import type { ApiProxy } from './api-proxy.js';
import type { ControlPlane } from './control-plane.js';

const TOUCH = 'gantry.test/concurrent-writer';

async function touchAll(
  admin: KubeConfig,
  namespace: string,
  plural: string,
  round: number,
): Promise<void> {
  const body = { metadata: { annotations: { [TOUCH]: String(round) } } };
  if (plural === 'replicasets') {
    const apps = admin.makeApiClient(AppsV1Api);
    const list = await apps.listNamespacedReplicaSet({ namespace });
    await Promise.all(
      list.items.map((o) =>
        apps
          .patchNamespacedReplicaSet({ name: o.metadata!.name!, namespace, body }, MERGE_PATCH)
          .catch(() => undefined),
      ),
    );
    return;
  }
  const core = admin.makeApiClient(CoreV1Api);
  const items =
    plural === 'pods'
      ? (await core.listNamespacedPod({ namespace })).items
      : plural === 'services'
        ? (await core.listNamespacedService({ namespace })).items
        : [];
  await Promise.all(
    items.map((o) => {
      const name = o.metadata!.name!;
      const p =
        plural === 'pods'
          ? core.patchNamespacedPod({ name, namespace, body }, MERGE_PATCH)
          : core.patchNamespacedService({ name, namespace, body }, MERGE_PATCH);
      return p.catch(() => undefined);
    }),
  );
}

/**
 * `admin` reaches the API server through `proxy` (as the controller does), so the writer rides
 * out restarts too.
 */
export function realFaults(
  cp: ControlPlane,
  proxy: ApiProxy,
  admin: KubeConfig,
  namespace: string,
): KubeSimFaults {
  let writes = 0;
  const background = (what: string, p: Promise<unknown>): void => {
    void p.catch((e: unknown) => console.warn(`fault ${what} failed: ${String(e)}`));
  };
  return {
    dropWatches() {
      // Connections wait at the relay while the server is down: requests sent during its
      // shutdown would be answered 503 "apiserver is shutting down", which no client retries.
      proxy.hold();
      const n = proxy.cut();
      background(
        'API server restart',
        cp.restartApiServer().finally(() => proxy.release()),
      );
      return n;
    },
    endWatches() {
      return proxy.cut();
    },
    expireBefore() {
      background('etcd compaction', cp.compactEtcd());
    },
    compact() {
      background('etcd compaction', cp.compactEtcd());
    },
    conflictNext(plural, n = 1) {
      background(
        `concurrent writes to ${plural}`,
        (async () => {
          for (let i = 0; i < n; i++) {
            await touchAll(admin, namespace, plural, ++writes);
            await sleep(150);
          }
        })(),
      );
    },
    failPull(image) {
      cp.failPulls.add(image);
    },
    allowPull(image) {
      cp.failPulls.delete(image);
    },
  };
}
