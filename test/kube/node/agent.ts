/**
 * The node agent: what a kubelet does for this test cluster, in TypeScript over Docker. It
 * registers a Node and keeps its Lease, watches the pods the scheduler bound to it, runs each as
 * a sandbox + app container on the test run's pod network (PodRunner), finishes graceful
 * deletions (containers stopped, then the pod deleted with grace 0, as the kubelet does) and
 * serves container logs to the API server (kubelet-server.ts).
 */
import type https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  Watch,
  type V1Pod,
} from '@kubernetes/client-node';
import { NODE_LABEL } from './containers.js';
import { KubeletEvents } from './events.js';
import { startKubeletServer, type ServingTls } from './kubelet-server.js';
import { heartbeat, registerNode, type NodeIdentity } from './node-object.js';
import { PodRunner, type RunnerTiming } from './pod-runner.js';

export interface AgentOptions {
  /** Credentials of the agent (the tests use the admin's: see test/kube/README.md). */
  kc: KubeConfig;
  agentId: string;
  nodeName: string;
  /** The host's address on the pod network: the node's InternalIP, where logs are served. */
  nodeIp: string;
  network: string;
  sandboxImage: string;
  tls: ServingTls;
  timing: RunnerTiming;
  /** Image references whose pulls fail until removed (a fault the tests inject). */
  failPulls: ReadonlySet<string>;
  docker?: Docker;
}

export class NodeAgent {
  private readonly runners = new Map<string, PodRunner>();
  private readonly finishing = new Set<string>();
  private readonly core: CoreV1Api;
  private readonly leases: CoordinationV1Api;
  private readonly docker: Docker;
  private server?: https.Server;
  private id?: NodeIdentity;
  private closed = false;
  private watch?: AbortController;
  private beat?: NodeJS.Timeout;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly opts: AgentOptions) {
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.leases = opts.kc.makeApiClient(CoordinationV1Api);
    this.docker = opts.docker ?? new Docker();
  }

  /** Serves logs, registers the Node, starts the heartbeat and the pod watch. */
  async start(): Promise<void> {
    this.server = await startKubeletServer(this.opts.tls, this, this.opts.nodeIp);
    const addr = this.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    this.id = { name: this.opts.nodeName, ip: this.opts.nodeIp, port };
    await registerNode(this.core, this.id);
    // Ten seconds, as the kubelet renews its Lease; failures are retried on the next beat.
    this.beat = setInterval(() => {
      if (this.id) void heartbeat(this.core, this.leases, this.id).catch(() => undefined);
    }, 10_000);
    await heartbeat(this.core, this.leases, this.id);
    this.loop = this.followPods();
  }

  /** The runner of a pod by namespace and name (for logs). */
  runner(namespace: string, name: string): PodRunner | undefined {
    return [...this.runners.values()].find((r) => r.namespace === namespace && r.name === name);
  }

  /** List, then watch from the list's version; any end or error lists again (a 410 included). */
  private async followPods(): Promise<void> {
    const selector = `spec.nodeName=${this.opts.nodeName}`;
    while (!this.closed) {
      try {
        const list = await this.core.listPodForAllNamespaces({ fieldSelector: selector });
        const uids = new Set(list.items.map((p) => p.metadata?.uid));
        // Pods deleted while the watch was down.
        for (const [uid, r] of this.runners)
          if (!uids.has(uid)) void r.terminate(0).finally(() => this.runners.delete(uid));
        for (const pod of list.items) this.onPod(pod);
        await new Promise<void>((resolve) => {
          void new Watch(this.opts.kc)
            .watch(
              '/api/v1/pods',
              { fieldSelector: selector, resourceVersion: list.metadata?.resourceVersion },
              (type: string, pod: V1Pod) => {
                if (type === 'DELETED') this.onDeleted(pod);
                else if (type === 'ADDED' || type === 'MODIFIED') this.onPod(pod);
              },
              () => resolve(),
            )
            .then((ctl) => {
              this.watch = ctl;
              if (this.closed) ctl.abort();
            })
            .catch(() => resolve());
        });
      } catch {
        // The API server is away (restarted by a test): try again shortly.
      }
      if (!this.closed) await sleep(500);
    }
  }

  private onPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.closed) return;
    const runner = this.runners.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (this.finishing.has(uid)) return;
      this.finishing.add(uid);
      const grace = pod.metadata.deletionGracePeriodSeconds ?? 30;
      void (runner ? runner.terminate(grace) : Promise.resolve())
        .then(() =>
          this.core.deleteNamespacedPod({
            name: pod.metadata!.name!,
            namespace: pod.metadata!.namespace!,
            // In the body: with a body, the API server ignores the query's gracePeriodSeconds.
            body: { gracePeriodSeconds: 0, preconditions: { uid } },
          }),
        )
        .catch((e: unknown) => {
          // 404: deleted meanwhile by someone with grace 0.
          if ((e as { code?: number }).code !== 404)
            console.warn(`node agent: finishing ${pod.metadata?.name}: ${String(e)}`);
        })
        .finally(() => {
          this.runners.delete(uid);
          this.finishing.delete(uid);
        });
      return;
    }
    const phase = pod.status?.phase;
    if (runner || phase === 'Succeeded' || phase === 'Failed') return;
    const r = new PodRunner(
      {
        docker: this.docker,
        core: this.core,
        events: new KubeletEvents(this.core, this.opts.nodeName),
        agentId: this.opts.agentId,
        nodeName: this.opts.nodeName,
        nodeIp: this.opts.nodeIp,
        network: this.opts.network,
        sandboxImage: this.opts.sandboxImage,
        timing: this.opts.timing,
        failPulls: this.opts.failPulls,
      },
      pod,
    );
    this.runners.set(uid, r);
    r.start();
  }

  private onDeleted(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    const r = uid ? this.runners.get(uid) : undefined;
    if (!r || !uid || this.finishing.has(uid)) return;
    void r.terminate(0).finally(() => this.runners.delete(uid));
  }

  /** Stops everything: pods killed at once, containers removed by label, the Node deleted. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.beat) clearInterval(this.beat);
    this.watch?.abort();
    await Promise.all([...this.runners.values()].map((r) => r.terminate(0)));
    this.runners.clear();
    const left = await this.docker.listContainers({
      all: true,
      filters: { label: [`${NODE_LABEL}=${this.opts.agentId}`] },
    });
    await Promise.all(
      left.map((c) =>
        this.docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    await this.core.deleteNode({ name: this.opts.nodeName }).catch(() => undefined);
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    await Promise.race([this.loop, sleep(2_000)]);
  }
}
