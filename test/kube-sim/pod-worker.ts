/**
 * One pod's life on the simulated node: pull the image (with back-off), run the first container
 * as a real Docker container, probe it, restart it with CrashLoopBackOff, stop it gracefully when
 * the pod is deleted. Status goes back through the store, so watchers see every transition.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { ConfigError, containerOptions, resolveEnv } from './container-spec.js';
import type { EventRecorder, EventType } from './events.js';
import { podStatus } from './pod-status.js';
import { presentImage, pullImage } from './image-pull.js';
import { ProbeLoop } from './probe-loop.js';
import { findResource } from './resources.js';
import { timestamp, type Store } from './store.js';
import type { Container, ContainerState, ContainerStatus, Pod, PodStatus } from './types.js';

const PODS = findResource('', 'pods')!;

export interface KubeletTiming {
  /** Multiplies probe delays and periods (0.1 = ten times faster than the pod spec says). */
  probeScale: number;
  /** First back-off of image pulls and crash restarts (the kubelet's is 10 s); doubles each time. */
  backoffBaseMs: number;
  /** Longest back-off (the kubelet's is 5 min). */
  backoffMaxMs: number;
}

export interface WorkerDeps {
  docker: Docker;
  store: Store;
  events: EventRecorder;
  simId: string;
  timing: KubeletTiming;
  /** Image references whose pulls fail (a fault tests inject). */
  failPulls: ReadonlySet<string>;
}

export class PodWorker {
  readonly hostPorts = new Map<number, number>();
  /** The running (or last) container, and the one before it (`?previous=true` logs). */
  current?: Docker.Container;
  previous?: Docker.Container;
  private readonly created: Docker.Container[] = [];
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly status: ContainerStatus;
  private phase: PodStatus['phase'] = 'Pending';
  private readonly startTime = timestamp();
  private probes?: ProbeLoop;
  private done: Promise<void> = Promise.resolve();
  private readonly c: Container;

  constructor(
    private readonly deps: WorkerDeps,
    private pod: Pod,
  ) {
    this.c = pod.spec.containers[0]!;
    this.status = {
      name: this.c.name,
      image: this.c.image,
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    };
  }

  get uid(): string {
    return this.pod.metadata.uid!;
  }

  /** Starts the pod's life in the background. */
  start(): void {
    this.done = this.run().catch((e: unknown) => {
      if (!this.stopping)
        console.warn(
          `kube-sim: pod ${this.pod.metadata.name}: ${e instanceof Error ? e.message : String(e)}`,
        );
    });
  }

  /** The host port on 127.0.0.1 of a container port given by number or name. */
  hostPort(port: number | string | undefined): number | undefined {
    const declared = this.c.ports ?? [];
    const p =
      port === undefined || port === ''
        ? declared[0]?.containerPort
        : typeof port === 'number' || /^\d+$/.test(port)
          ? Number(port)
          : declared.find((d) => d.name === port)?.containerPort;
    return p === undefined ? undefined : this.hostPorts.get(p);
  }

  private event(type: EventType, reason: string, message: string, component = 'kubelet'): void {
    const pod = this.deps.store.get(PODS, this.pod.metadata.namespace!, this.pod.metadata.name!);
    if (pod?.metadata.uid === this.uid) this.pod = pod as Pod;
    const field =
      component === 'kubelet' && reason !== 'Scheduled'
        ? `spec.containers{${this.c.name}}`
        : undefined;
    this.deps.events.record(this.pod, type, reason, message, component, field);
  }

  /** Writes the pod's status from what this worker knows (no write when nothing changed). */
  private publish(): void {
    if (this.stopping) return;
    const { store } = this.deps;
    const cur = store.get(PODS, this.pod.metadata.namespace!, this.pod.metadata.name!) as
      Pod | undefined;
    if (!cur || cur.metadata.uid !== this.uid) return;
    const view = {
      phase: this.phase,
      startTime: this.startTime,
      container: structuredClone(this.status),
    };
    const next = podStatus(view, cur.status, timestamp());
    this.pod = store.update(PODS, cur.metadata.namespace!, { ...cur, status: next }) as Pod;
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
    this.event(
      'Normal',
      'Scheduled',
      `Successfully assigned ${this.pod.metadata.namespace}/${this.pod.metadata.name} to kube-sim-node`,
      'default-scheduler',
    );
    this.publish();
    let crashes = 0;
    while (!this.stopping) {
      if (!(await this.ensureImage())) return;
      let env: string[];
      try {
        env = resolveEnv(this.deps.store, this.pod, this.c);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        this.setState({ waiting: { reason: 'CreateContainerConfigError', message: e.message } });
        this.event('Warning', 'Failed', `Error: ${e.message}`);
        if (!(await this.wait(this.backoff(1)))) return;
        continue;
      }
      const exit = await this.runContainer(env);
      if (exit === undefined || this.stopping) return;
      const policy = this.pod.spec.restartPolicy ?? 'Always';
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
        const ref = `${this.c.name} pod=${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`;
        this.setState({
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${ref}`,
          },
        });
        this.event(
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${this.c.name} in pod ${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`,
        );
        if (!(await this.wait(delay))) return;
      }
    }
  }

  /** Makes the image present (per imagePullPolicy); false when the pod stopped meanwhile. */
  private async ensureImage(): Promise<boolean> {
    const { docker, failPulls } = this.deps;
    const image = this.c.image;
    let failures = 0;
    while (!this.stopping) {
      const present = await presentImage(docker, image);
      const policy = this.c.imagePullPolicy ?? 'IfNotPresent';
      if (present && policy !== 'Always' && !failPulls.has(image)) {
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
        const failure = failPulls.has(image)
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
    const { docker, simId } = this.deps;
    const opts = containerOptions({
      simId,
      pod: this.pod,
      container: this.c,
      env,
      attempt: this.status.restartCount,
      hostPorts: this.hostPorts,
    });
    const container = await docker.createContainer(opts);
    this.created.push(container);
    // Like the kubelet, keep the last dead container (for `?previous=true` logs), no older one.
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
    for (const [key, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      const port = Number(key.split('/')[0]);
      const host = bindings?.find((b) => b.HostIp === '127.0.0.1') ?? bindings?.[0];
      if (host) this.hostPorts.set(port, Number(host.HostPort));
    }
    this.status.containerID = `docker://${info.Id}`;
    this.status.started = true;
    this.phase = 'Running';
    this.event('Normal', 'Started', `Started container ${this.c.name}`);
    this.setState(
      { running: { startedAt: timestamp(new Date(info.State.StartedAt)) } },
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
      startedAt: timestamp(new Date(after.State.StartedAt)),
      finishedAt: timestamp(new Date(after.State.FinishedAt)),
      containerID: `docker://${after.Id}`,
    };
  }

  private startProbes(container: Docker.Container): void {
    const probes = new ProbeLoop(
      container,
      {
        hostPort: (p) => this.hostPort(p),
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
            .stop({ t: this.pod.spec.terminationGracePeriodSeconds ?? 30 })
            .catch(() => undefined);
        },
      },
      this.deps.timing.probeScale,
    );
    if (this.c.readinessProbe) probes.add('Readiness', this.c.readinessProbe);
    if (this.c.livenessProbe) probes.add('Liveness', this.c.livenessProbe);
    this.probes = probes;
  }

  /**
   * Stops the pod: SIGTERM, SIGKILL after the grace period (Docker's stop), containers removed;
   * `remove` then deletes the pod object (not when the API server already removed it).
   */
  async terminate(graceSeconds: number, remove: boolean): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    this.probes?.stop();
    if (this.current && remove)
      this.deps.events.record(
        this.pod,
        'Normal',
        'Killing',
        `Stopping container ${this.c.name}`,
        'kubelet',
        `spec.containers{${this.c.name}}`,
      );
    await this.current?.stop({ t: Math.max(0, Math.round(graceSeconds)) }).catch(() => undefined);
    await this.done;
    await this.removeContainers();
    if (!remove) return;
    const { store } = this.deps;
    const cur = store.get(PODS, this.pod.metadata.namespace!, this.pod.metadata.name!);
    if (cur?.metadata.uid === this.uid)
      store.remove(PODS, this.pod.metadata.namespace!, this.pod.metadata.name!);
  }

  /** Removes this pod's containers at once (the simulator is closing). */
  async kill(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.probes?.stop();
    await this.removeContainers();
    await this.done;
    await this.removeContainers();
  }

  private async removeContainers(): Promise<void> {
    await Promise.all(this.created.map((c) => c.remove({ force: true }).catch(() => undefined)));
  }
}
