/**
 * A Kubernetes API-server simulator for tests: the real REST and watch protocol over plain HTTP on
 * 127.0.0.1, a ReplicaSet controller, and a kubelet that runs pods as real Docker containers.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { SIM_LABEL } from './container-spec.js';
import { EventRecorder } from './events.js';
import { Kubelet } from './kubelet.js';
import { kubeconfigYaml } from './kubeconfig.js';
import type { KubeletTiming } from './pod-worker.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { findResource } from './resources.js';
import { ConflictFaults, Rest } from './rest.js';
import { Rbac, type RbacRule } from './rbac.js';
import { routes, type RouteDeps } from './routes.js';
import { Store } from './store.js';
import { WatchHub } from './watch.js';

export { SIM_LABEL } from './container-spec.js';

/**
 * Removes the containers of EVERY simulator on the engine (any `gantry-kube-sim` label): for a
 * global teardown, after all tests, to sweep what a test that never reached `close()` left.
 */
export async function removeAllSimContainers(docker = new Docker()): Promise<number> {
  const left = await docker.listContainers({ all: true, filters: { label: [SIM_LABEL] } });
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  return left.length;
}

export interface KubeSimOptions {
  /** The namespace of the kubeconfig's context (created with `default`); default `default`. */
  namespace?: string;
  /** The image registry pods pull from (informational: images are pulled by their reference). */
  registry?: string;
  /** Multiplies probe delays and periods from pod specs; default 1 (use e.g. 0.1 in tests). */
  probeScale?: number;
  /** First image-pull / crash back-off in ms (doubles each time); default 10 000 × probeScale. */
  backoffBaseMs?: number;
  /** Longest back-off in ms; default 300 000 × probeScale. */
  backoffMaxMs?: number;
  /** Interval of BOOKMARK events on watches that allow them; default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** Docker engine to run pods on; default the local one (DOCKER_HOST or the socket). */
  docker?: Docker;
  /**
   * A Role for the kubeconfig's user: its requests are then allowed only as these rules grant
   * (403 Forbidden otherwise), like a ServiceAccount bound to that Role. `adminKubeconfigYaml`
   * stays unrestricted for the tests' own checks.
   */
  rbac?: readonly RbacRule[];
}

/** Fault injection: misbehaviours of a real API server, on demand. */
export interface KubeSimFaults {
  /** Ends every open watch connection abruptly (socket destroyed). Returns how many were cut. */
  dropWatches(): number;
  /** Ends every open watch cleanly (as the server's own timeout does); returns how many. */
  endWatches(): number;
  /** Forgets change history before `resourceVersion`: a watch from older versions gets 410 Gone. */
  expireBefore(resourceVersion: string | number): void;
  /**
   * Forgets all history: a watch from ANY resourceVersion handed out so far (the current one
   * included) gets 410 Gone, as after an API server's watch-cache restart; clients must relist.
   */
  compact(): void;
  /**
   * The next `n` conditional writes on `resourcePlural` (e.g. 'replicasets') get 409 Conflict even
   * with a fresh resourceVersion: PUT/PATCH whose object names `metadata.resourceVersion`, DELETE
   * with `preconditions.resourceVersion`. Unconditional writes never conflict, as on a real server
   * (it retries them itself).
   */
  conflictNext(resourcePlural: string, n?: number): void;
  /** Pulls of this exact image reference fail (ErrImagePull → ImagePullBackOff) until `allowPull`. */
  failPull(imageRef: string): void;
  /** Undoes `failPull`. */
  allowPull(imageRef: string): void;
}

export interface KubeSim {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly namespace: string;
  /** Bearer token the server requires (also in the kubeconfig). */
  readonly token: string;
  /** A kubeconfig: cluster server=url, user token, context with `namespace`. With `rbac`, its user is the restricted one. */
  readonly kubeconfigYaml: string;
  /** A kubeconfig whose user is never restricted (the tests' own checks and set-up). */
  readonly adminKubeconfigYaml: string;
  /** With `rbac`: what the restricted user was allowed and refused (`group/resource:verb`). */
  readonly rbac: { allowed(): string[]; denied(): string[] } | undefined;
  /** The value of the `gantry-kube-sim` label on every container this simulator starts. */
  readonly simId: string;
  readonly faults: KubeSimFaults;
  /** The current global resourceVersion. */
  resourceVersion(): string;
  /** Stops the server (ending open watches) and removes every container it started. */
  close(): Promise<void>;
}

/** Starts a simulator on a free port of 127.0.0.1. */
export async function startKubeSim(opts: KubeSimOptions = {}): Promise<KubeSim> {
  const namespace = opts.namespace ?? 'default';
  const probeScale = opts.probeScale ?? 1;
  const timing: KubeletTiming = {
    probeScale,
    backoffBaseMs: opts.backoffBaseMs ?? 10_000 * probeScale,
    backoffMaxMs: opts.backoffMaxMs ?? 300_000 * probeScale,
  };
  const simId = randomBytes(4).toString('hex');
  const token = randomBytes(16).toString('hex');
  const docker = opts.docker ?? new Docker();
  const store = new Store();
  const conflicts = new ConflictFaults();
  const rest = new Rest(store, conflicts);
  const events = new EventRecorder(store);
  const failPulls = new Set<string>();
  const watches = new WatchHub(store, { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 1000 });
  const kubelet = new Kubelet({ docker, store, events, simId, timing, failPulls });
  const controller = new ReplicaSetController(rest, events);

  const namespaces = findResource('', 'namespaces')!;
  for (const ns of new Set(['default', 'kube-system', namespace]))
    rest.create(namespaces, '', { metadata: { name: ns } });

  const subject = `system:serviceaccount:${namespace}:gantry`;
  const restricted = opts.rbac
    ? { token: randomBytes(16).toString('hex'), rbac: new Rbac(opts.rbac, subject) }
    : undefined;
  const deps: RouteDeps = { rest, watches, pods: kubelet, token, restricted, serverAddress: '' };
  const server = createServer(routes(deps));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  deps.serverAddress = `127.0.0.1:${port}`;
  const url = `http://${deps.serverAddress}`;
  kubelet.start();
  controller.start();

  const faults: KubeSimFaults = {
    dropWatches: () => {
      const n = watches.count;
      watches.dropAll();
      return n;
    },
    endWatches: () => {
      const n = watches.count;
      watches.endAll();
      return n;
    },
    expireBefore: (rv) => store.expireBefore(Number(rv)),
    compact: () => store.compact(),
    conflictNext: (plural, n = 1) => conflicts.add(plural, n),
    failPull: (ref) => void failPulls.add(ref),
    allowPull: (ref) => void failPulls.delete(ref),
  };

  let closed: Promise<void> | undefined;
  return {
    url,
    namespace,
    token,
    simId,
    kubeconfigYaml: kubeconfigYaml(url, restricted?.token ?? token, namespace),
    adminKubeconfigYaml: kubeconfigYaml(url, token, namespace),
    rbac: restricted
      ? { allowed: () => restricted.rbac.allowed(), denied: () => restricted.rbac.denied() }
      : undefined,
    faults,
    resourceVersion: () => String(store.resourceVersion),
    close: () =>
      (closed ??= (async () => {
        controller.stop();
        watches.endAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await kubelet.close();
      })()),
  };
}
