/**
 * One pod's life on the node agent, as a kubelet lives it: a sandbox holding the pod's IP, the
 * image pulled (with back-off), the first container run as a Docker container in the sandbox,
 * probed from the node at the pod IP, restarted with CrashLoopBackOff, stopped with the pod's
 * grace period. Every transition is written to the pod's status through the API server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import { MERGE_PATCH } from '../../../src/runtime/kubernetes/kube-client.js';
import { presentImage, pullImage } from '../../kube-sim/image-pull.js';
import { podConditions } from '../../kube-sim/pod-status.js';
import { ProbeLoop } from '../../kube-sim/probe-loop.js';
import type {
  ContainerState,
  ContainerStatus,
  PodCondition,
  PodStatus,
  Probe,
} from '../../kube-sim/types.js';
import { appContainerOptions, sandboxOptions } from './containers.js';
import { ConfigError, resolveEnv } from './env.js';
import type { EventSink } from './events.js';

export interface RunnerTiming {
  /** Multiplies probe delays and periods (1 = as the pod spec says). */
  probeScale: number;
  /** First back-off of image pulls and crash restarts (the kubelet's is 10 s); doubles each time. */
  backoffBaseMs: number;
  /** Longest back-off (the kubelet's is 5 min). */
  backoffMaxMs: number;
}

export interface RunnerDeps {
  docker: Docker;
  core: CoreV1Api;
  events: EventSink;
  agentId: string;
  nodeName: string;
  nodeIp: string;
  network: string;
  sandboxImage: string;
  timing: RunnerTiming;
  /** Image references whose pulls are made to fail (the one injected fault: see test/kube/README.md). */
  failPulls: ReadonlySet<string>;
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class PodRunner {
  /** The running (or last) app container, and the one before it (`previous=true` logs). */
  current?: Docker.Container;
  previous?: Docker.Container;
  podIp = '';
  private sandbox?: Docker.Container;
  private readonly created: Docker.Container[] = [];
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly status: ContainerStatus;
  private phase: PodStatus['phase'] = 'Pending';
  private readonly startTime = now();
  private probes?: ProbeLoop;
  private done: Promise<void> = Promise.resolve();
  private readonly c: V1Container;
  private publishing: Promise<void> = Promise.resolve();
  private lastSent = '';
  private conditions: PodCondition[] | undefined;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly pod: V1Pod,
  ) {
    this.c = pod.spec!.containers[0]!;
    this.status = {
      name: this.c.name,
      image: this.c.image ?? '',
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    };
  }

  get name(): string {
    return this.pod.metadata!.name!;
  }
  get namespace(): string {
    return this.pod.metadata!.namespace!;
  }
  get uid(): string {
    return this.pod.metadata!.uid!;
  }
  get containerName(): string {
    return this.c.name;
  }
  get waitingReason(): string | undefined {
    return this.status.state.waiting?.reason;
  }

  /** Starts the pod's life in the background. */
  start(): void {
    this.done = this.run().catch((e: unknown) => {
      if (!this.stopping)
        console.warn(`node agent: pod ${this.name}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.deps.events.record(this.pod, type, reason, message, `spec.containers{${this.c.name}}`);
  }

  /**
   * Writes the pod's status (merge patch of the whole status; nothing when unchanged). Writes go
   * one after another, so an older picture never lands after a newer one.
   */
  private publish(): void {
    if (this.stopping) return;
    const ready = this.status.ready && this.phase === 'Running';
    const status = {
      phase: this.phase,
      // Conditions keep their transition time while their status holds.
      conditions: (this.conditions = podConditions(
        { phase: this.phase, startTime: this.startTime, container: { ...this.status, ready } },
        this.conditions,
        now(),
      )),
      hostIP: this.deps.nodeIp,
      hostIPs: [{ ip: this.deps.nodeIp }],
      ...(this.podIp ? { podIP: this.podIp, podIPs: [{ ip: this.podIp }] } : {}),
      startTime: this.startTime,
      containerStatuses: [structuredClone(this.status)],
    };
    const body = JSON.stringify(status);
    if (body === this.lastSent) return;
    this.lastSent = body;
    this.publishing = this.publishing.then(async () => {
      await this.deps.core
        .patchNamespacedPodStatus(
          { name: this.name, namespace: this.namespace, body: { status } },
          MERGE_PATCH,
        )
        .catch((e: unknown) => {
          if (this.stopping || (e as { code?: number }).code === 404) return;
          // The API server is away (a restart): write the then-current status again shortly,
          // as the kubelet's status manager resyncs.
          if (this.lastSent === body) this.lastSent = '';
          setTimeout(() => this.publish(), 1_000).unref();
          console.warn(`node agent: status of ${this.name}: ${(e as Error).message}; retrying`);
        });
    });
  }

  private setState(state: ContainerState, ready = false): void {
    this.status.state = state;
    this.status.ready = ready;
    this.publish();
  }

  private backoff(n: number): number {
    const { backoffBaseMs, backoffMaxMs } = this.deps.timing;
    return Math.min(backoffBaseMs * 2 ** Math.max(0, n - 1), backoffMaxMs);
  }

  /** Sleeps unless the pod is being stopped; false when it is. */
  private async wait(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.abort.signal });
    } catch {
      return false;
    }
    return !this.stopping;
  }

  private async run(): Promise<void> {
    await this.startSandbox();
    this.publish();
    let crashes = 0;
    while (!this.stopping) {
      if (!(await this.ensureImage())) return;
      let env: string[];
      try {
        env = await resolveEnv(this.deps.core, this.pod, this.c, {
          podIp: this.podIp,
          hostIp: this.deps.nodeIp,
        });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        this.setState({ waiting: { reason: 'CreateContainerConfigError', message: e.message } });
        this.event('Warning', 'Failed', `Error: ${e.message}`);
        if (!(await this.wait(this.backoff(1)))) return;
        continue;
      }
      const exit = await this.runContainer(env);
      if (exit === undefined || this.stopping) return;
      const policy = this.pod.spec?.restartPolicy ?? 'Always';
      if (policy === 'Never' || (policy === 'OnFailure' && exit.exitCode === 0)) {
        this.phase = exit.exitCode === 0 ? 'Succeeded' : 'Failed';
        this.setState({ terminated: exit });
        return;
      }
      crashes += 1;
      this.status.restartCount += 1;
      this.status.lastState = { terminated: exit };
      // The first restart is immediate; then the kubelet backs off, doubling each time.
      if (crashes > 1) {
        const delay = this.backoff(crashes - 1);
        const ref = `${this.c.name} pod=${this.name}_${this.namespace}(${this.uid})`;
        this.setState({
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${ref}`,
          },
        });
        this.event(
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${this.c.name} in pod ${this.name}_${this.namespace}(${this.uid})`,
        );
        if (!(await this.wait(delay))) return;
      }
    }
  }

  /** The pod's network namespace and IP, held for the pod's whole life. */
  private async startSandbox(): Promise<void> {
    const { docker } = this.deps;
    const sandbox = await docker.createContainer(
      sandboxOptions({
        agentId: this.deps.agentId,
        pod: this.pod,
        network: this.deps.network,
        image: this.deps.sandboxImage,
      }),
    );
    this.created.push(sandbox);
    this.sandbox = sandbox;
    await sandbox.start();
    const info = await sandbox.inspect();
    this.podIp = info.NetworkSettings.Networks[this.deps.network]?.IPAddress ?? '';
  }

  /** Makes the image present (per imagePullPolicy); false when the pod stopped meanwhile. */
  private async ensureImage(): Promise<boolean> {
    const { docker } = this.deps;
    const image = this.c.image ?? '';
    let failures = 0;
    while (!this.stopping) {
      const present = await presentImage(docker, image);
      const policy = this.c.imagePullPolicy ?? 'IfNotPresent';
      const injected = this.deps.failPulls.has(image);
      if (present && policy !== 'Always' && !injected) {
        this.status.imageID = present;
        this.event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
        return true;
      }
      let error: string;
      if (policy === 'Never')
        error = `Container image "${image}" is not present with pull policy of Never`;
      else {
        this.event('Normal', 'Pulling', `Pulling image "${image}"`);
        const started = Date.now();
        const failure = injected
          ? `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found (injected)`
          : await pullImage(docker, image);
        if (failure === undefined) {
          this.status.imageID = (await presentImage(docker, image)) ?? image;
          this.event(
            'Normal',
            'Pulled',
            `Successfully pulled image "${image}" in ${Date.now() - started}ms`,
          );
          return true;
        }
        error = failure;
      }
      failures += 1;
      const reason = policy === 'Never' ? 'ErrImageNeverPull' : 'ErrImagePull';
      this.setState({ waiting: { reason, message: error } });
      this.event(
        'Warning',
        'Failed',
        policy === 'Never' ? error : `Failed to pull image "${image}": ${error}`,
      );
      this.event('Warning', 'Failed', `Error: ${reason}`);
      const delay = this.backoff(failures);
      // ErrImagePull shows until the next sync; the rest of the wait shows ImagePullBackOff.
      if (!(await this.wait(Math.min(delay / 4, 1000)))) return false;
      this.setState({
        waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
      });
      this.event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
      this.event('Warning', 'Failed', 'Error: ImagePullBackOff');
      if (!(await this.wait(delay))) return false;
    }
    return false;
  }

  /** Creates, starts and probes one container; resolves with how it ended (undefined: stopped). */
  private async runContainer(env: string[]): Promise<ContainerState['terminated'] | undefined> {
    const { docker } = this.deps;
    const container = await docker.createContainer(
      appContainerOptions({
        agentId: this.deps.agentId,
        pod: this.pod,
        container: this.c,
        env,
        attempt: this.status.restartCount,
        sandboxId: this.sandbox!.id,
      }),
    );
    this.created.push(container);
    // Like the kubelet, keep the last dead container (for `previous=true` logs), no older one.
    if (this.previous) void this.previous.remove({ force: true }).catch(() => undefined);
    if (this.current) this.previous = this.current;
    this.current = container;
    if (this.stopping) return undefined;
    this.event('Normal', 'Created', `Created container ${this.c.name}`);
    await container.start();
    if (this.stopping) {
      await container.stop({ t: 0 }).catch(() => undefined);
      return undefined;
    }
    const info = await container.inspect();
    this.status.containerID = `docker://${info.Id}`;
    this.status.started = true;
    this.phase = 'Running';
    this.event('Normal', 'Started', `Started container ${this.c.name}`);
    this.setState(
      {
        running: {
          startedAt: new Date(info.State.StartedAt).toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      },
      !this.c.readinessProbe,
    );
    this.startProbes(container);
    const result = (await container.wait()) as { StatusCode: number };
    this.probes?.stop();
    if (this.stopping) return undefined;
    const after = await container.inspect();
    return {
      exitCode: result.StatusCode,
      reason: after.State.OOMKilled ? 'OOMKilled' : result.StatusCode === 0 ? 'Completed' : 'Error',
      startedAt: new Date(after.State.StartedAt).toISOString().replace(/\.\d+Z$/, 'Z'),
      finishedAt: new Date(after.State.FinishedAt).toISOString().replace(/\.\d+Z$/, 'Z'),
      containerID: `docker://${after.Id}`,
    };
  }

  /** The container port of a probe's port (number or name). */
  private portOf(port: number | string): number | undefined {
    if (typeof port === 'number' || /^\d+$/.test(port)) return Number(port);
    return this.c.ports?.find((p) => p.name === port)?.containerPort;
  }

  private startProbes(container: Docker.Container): void {
    const probes = new ProbeLoop(
      container,
      {
        // Probes go from the node to the pod IP, as the kubelet's do.
        hostPort: (p) => this.portOf(p),
        host: this.podIp,
        live: () =>
          !this.stopping && this.current === container && this.status.state.running !== undefined,
        failed: (kind, message) =>
          this.event('Warning', 'Unhealthy', `${kind} probe failed: ${message}`),
        ready: (ok) => {
          if (ok !== this.status.ready) this.setState(this.status.state, ok);
        },
        dead: () => {
          this.event(
            'Normal',
            'Killing',
            `Container ${this.c.name} failed liveness probe, will be restarted`,
          );
          void container
            .stop({ t: this.pod.spec?.terminationGracePeriodSeconds ?? 30 })
            .catch(() => undefined);
        },
      },
      this.deps.timing.probeScale,
    );
    // The client's V1Probe and the simulator's Probe are the same wire shape.
    const probe = (p: unknown): Probe => p as Probe;
    if (this.c.readinessProbe) probes.add('Readiness', probe(this.c.readinessProbe));
    if (this.c.livenessProbe) probes.add('Liveness', probe(this.c.livenessProbe));
    this.probes = probes;
  }

  /** Stops the pod: SIGTERM, SIGKILL after the grace period (Docker's stop), containers removed. */
  async terminate(graceSeconds: number): Promise<void> {
    if (this.stopping) return this.done;
    this.stopping = true;
    this.abort.abort();
    this.probes?.stop();
    if (this.current) this.event('Normal', 'Killing', `Stopping container ${this.c.name}`);
    await this.current?.stop({ t: Math.max(0, Math.round(graceSeconds)) }).catch(() => undefined);
    await this.done;
    await this.publishing;
    await this.removeContainers();
  }

  private async removeContainers(): Promise<void> {
    await Promise.all(this.created.map((c) => c.remove({ force: true }).catch(() => undefined)));
  }
}
