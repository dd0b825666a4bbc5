/**
 * The Docker runtime: a thin executor over dockerode, one client per host. What to create is
 * decided by `containerCreateOptions`, what a container is by `instanceOf`; this file only sends
 * requests and sorts their failures.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { GantryError, errorMessage } from '../../errors.js';
import type {
  ExecResult,
  Instance,
  InstanceFilter,
  InstanceSpec,
  FollowLogsOptions,
  OneOffResult,
  OneOffSpec,
  Runtime,
  RunOnceOptions,
  RuntimeChange,
  Survey,
  UnreachableHost,
} from '../runtime.js';
import { followEvents } from './events.js';
import { execIn, logsOf } from './container-io.js';
import { containerCreateOptions, containerName, legacyContainerName } from './container-spec.js';
import { engineError, engineMessage, statusOf } from './docker-errors.js';
import {
  clientOptions,
  hostAddress,
  LOCAL_ADDRESS,
  validateHosts,
  type DockerHostConfig,
} from './hosts.js';
import { ensureImage, removeImages } from './image-store.js';
import { instanceLabelFilters, isManaged } from './labels.js';
import { instanceOf } from './instance-of.js';
import { followLogsOf } from './log-follow.js';
import { runOnce, sweepOneOffs } from './one-off.js';
import type { RegistryAccess } from '../../registry/credentials.js';

/** How long a start that lost the race for a slot's name waits for the winner's container. */
const RACE_WAIT_MS = 10_000;
/** How many starts a container gets when its published host port is already taken. */
const PORT_CLASH_ATTEMPTS = 20;

const isPortClash = (e: unknown): boolean =>
  /address already in use|port is already allocated/i.test(errorMessage(e));

export interface DockerRuntimeOptions {
  readonly hosts: readonly DockerHostConfig[];
  /** Gantry's registry: its credentials, if any, go with every pull from it on every host. */
  readonly registry?: RegistryAccess | undefined;
}

/** The engine's own words from an unreachable host's error ("connect ECONNREFUSED …"). */
function unreachableDetail(e: GantryError): string {
  return e.cause === undefined ? e.message : engineMessage(e.cause);
}

/** Runs instances as containers on one or more Docker engines. */
export class DockerRuntime implements Runtime {
  private readonly clients = new Map<string, Docker>();
  /** Host name → the IP its instances publish on (hosts.ts). */
  private readonly addresses = new Map<string, string>();
  private readonly registry: RegistryAccess | undefined;

  constructor(opts: DockerRuntimeOptions) {
    validateHosts(opts.hosts);
    this.registry = opts.registry;
    for (const host of opts.hosts) {
      this.clients.set(host.name, new Docker(clientOptions(host)));
      this.addresses.set(host.name, hostAddress(host));
    }
  }

  hosts(): string[] {
    return [...this.clients.keys()];
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const docker = this.client(spec.host);
    const name = containerName(spec);
    const secrets = Object.values(spec.secrets);
    let info =
      (await this.inspect(docker, spec.host, name)) ?? (await this.legacySlot(docker, spec));
    if (info === undefined) {
      await ensureImage(docker, spec.host, spec.image, this.registry);
      let raced = false;
      try {
        await docker.createContainer(containerCreateOptions(spec, this.address(spec.host)));
      } catch (e) {
        // 409: a concurrent start of the same slot claimed the name first; carry on with its container.
        if (statusOf(e) !== 409) {
          throw engineError(e, `create ${name}`, spec.host, 'GANTRY_ERR_INSTANCE_START', secrets);
        }
        raced = true;
      }
      info = await this.inspect(docker, spec.host, name);
      // The engine reserves a name before the container can be inspected: give the winner a moment.
      for (let waited = 0; raced && info === undefined && waited < RACE_WAIT_MS; waited += 50) {
        await sleep(50);
        info = await this.inspect(docker, spec.host, name);
      }
      if (info === undefined) {
        throw new GantryError(
          'GANTRY_ERR_DOCKER_UNAVAILABLE',
          `${name} on host "${spec.host}" could not be found right after its creation`,
        );
      }
    }
    const found = this.owned(info, spec);
    if (found.state === 'created' || found.state === 'exited') {
      for (let attempt = 1; ; attempt++) {
        try {
          await docker.getContainer(found.id).start();
          break;
        } catch (e) {
          // 304: started by someone else in between, which is what we wanted.
          if (statusOf(e) === 304) break;
          // The engine hands out host ports in order and only learns at bind time that another
          // process (or a second engine on this host) holds one; the next start gets the next port.
          if (attempt < PORT_CLASH_ATTEMPTS && isPortClash(e)) continue;
          throw engineError(e, `start ${name}`, spec.host, 'GANTRY_ERR_INSTANCE_START', secrets);
        }
      }
      info = (await this.inspect(docker, spec.host, found.id)) ?? info;
    } else if (found.state === 'dead') {
      throw new GantryError(
        'GANTRY_ERR_INSTANCE_START',
        `${name} on host "${spec.host}" is dead; remove it and start again`,
      );
    }
    return this.owned(info, spec);
  }

  async stop(instance: Instance, opts: { timeoutSeconds: number }): Promise<void> {
    const docker = this.client(instance.host);
    const info = await this.inspect(docker, instance.host, instance.id);
    if (info === undefined) return;
    this.assertManaged(info, instance);
    if (!info.State.Running && !info.State.Restarting && !info.State.Paused) return;
    try {
      // The engine sends the stop signal, waits `t` seconds, then SIGKILL; the call returns after.
      await docker
        .getContainer(instance.id)
        .stop({ t: Math.max(0, Math.round(opts.timeoutSeconds)) });
    } catch (e) {
      const status = statusOf(e);
      if (status === 304 || status === 404) return; // already stopped, or gone
      throw engineError(e, `stop ${instance.name}`, instance.host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
    }
  }

  async remove(instance: Instance): Promise<void> {
    const docker = this.client(instance.host);
    const info = await this.inspect(docker, instance.host, instance.id);
    if (info === undefined) return;
    this.assertManaged(info, instance);
    try {
      await docker.getContainer(instance.id).remove({ force: true, v: true });
    } catch (e) {
      const status = statusOf(e);
      // 404: gone; 409: "removal already in progress" — a retried job racing its first attempt.
      if (status === 404 || status === 409) return;
      throw engineError(
        e,
        `remove ${instance.name}`,
        instance.host,
        'GANTRY_ERR_DOCKER_UNAVAILABLE',
      );
    }
  }

  async list(filter: InstanceFilter): Promise<Instance[]> {
    // Every host or none: a partial answer would look like missing replicas and start more.
    const perHost = await Promise.all(this.hosts().map((host) => this.listOn(host, filter)));
    return perHost
      .flat()
      .sort((a, b) => a.host.localeCompare(b.host) || a.name.localeCompare(b.name));
  }

  /**
   * Every host that answers, and which did not. An engine that answers with an error (not a
   * connection failure) fails the whole survey, as `list` does; so does every host unreachable.
   */
  async survey(filter: InstanceFilter): Promise<Survey> {
    const hosts = this.hosts();
    const settled = await Promise.allSettled(hosts.map((host) => this.listOn(host, filter)));
    const instances: Instance[] = [];
    const unreachable: UnreachableHost[] = [];
    let firstUnreachable: unknown;
    settled.forEach((r, n) => {
      const host = hosts[n]!;
      if (r.status === 'fulfilled') {
        instances.push(...r.value);
        return;
      }
      const e: unknown = r.reason;
      if (!(e instanceof GantryError) || e.code !== 'GANTRY_ERR_DOCKER_UNAVAILABLE') throw e;
      firstUnreachable ??= e;
      unreachable.push({ host, detail: unreachableDetail(e) });
    });
    if (unreachable.length === hosts.length) throw firstUnreachable;
    instances.sort((a, b) => a.host.localeCompare(b.host) || a.name.localeCompare(b.name));
    return { instances, unreachable };
  }

  exec(instance: Instance, argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    const container = this.client(instance.host).getContainer(instance.id);
    return execIn(container, instance.host, argv, timeoutMs);
  }

  logs(instance: Instance, tailLines: number): Promise<string[]> {
    const container = this.client(instance.host).getContainer(instance.id);
    return logsOf(container, instance.host, tailLines);
  }

  followLogs(instance: Instance, opts: FollowLogsOptions): Promise<void> {
    const container = this.client(instance.host).getContainer(instance.id);
    return followLogsOf(container, instance.host, opts);
  }

  runOnce(spec: OneOffSpec, opts: RunOnceOptions): Promise<OneOffResult> {
    return runOnce(this.client(spec.host), spec.host, spec, opts, this.registry);
  }

  async sweepOneOffs(now: number): Promise<number> {
    const counts = await Promise.all(
      [...this.clients.entries()].map(([host, docker]) => sweepOneOffs(docker, host, now)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  ensureImage(host: string, image: string): Promise<void> {
    return ensureImage(this.client(host), host, image, this.registry);
  }

  removeImages(host: string, keep: readonly string[], app: string): Promise<string[]> {
    return removeImages(this.client(host), host, keep, app);
  }

  watch(onChange: (change: RuntimeChange) => void): () => void {
    const stops = [...this.clients.values()].map((docker) => followEvents(docker, onChange));
    return () => stops.forEach((stop) => stop());
  }

  private async listOn(host: string, filter: InstanceFilter): Promise<Instance[]> {
    const docker = this.client(host);
    let entries: Docker.ContainerInfo[];
    try {
      entries = await docker.listContainers({
        all: true,
        filters: { label: instanceLabelFilters(filter) },
      });
    } catch (e) {
      throw engineError(e, `list ${filter.app}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
    }
    // The list lacks restart counts and exit codes; inspect each (a handful per app and host).
    const infos = await Promise.all(entries.map((c) => this.inspect(docker, host, c.Id)));
    return infos
      .map((info) => (info === undefined ? undefined : instanceOf(info, host, this.address(host))))
      .filter((i): i is Instance => i !== undefined);
  }

  private client(host: string): Docker {
    const docker = this.clients.get(host);
    if (docker === undefined) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `unknown Docker host "${host}"; known: ${this.hosts().join(', ')}`,
      );
    }
    return docker;
  }

  private address(host: string): string {
    return this.addresses.get(host) ?? LOCAL_ADDRESS;
  }

  /** Inspect by id or name; undefined when there is no such container. */
  private async inspect(
    docker: Docker,
    host: string,
    idOrName: string,
  ): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await docker.getContainer(idOrName).inspect();
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw engineError(e, `inspect ${idOrName}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
    }
  }

  /**
   * The slot's container under its pre-"--" name, only when its labels say it is this very slot
   * (under the old scheme another app environment could hold the same name).
   */
  private async legacySlot(
    docker: Docker,
    spec: InstanceSpec,
  ): Promise<Docker.ContainerInspectInfo | undefined> {
    const info = await this.inspect(docker, spec.host, legacyContainerName(spec));
    const found = info && instanceOf(info, spec.host, this.address(spec.host));
    const same = found?.app === spec.app && found.env === spec.env && found.slot === spec.slot;
    return same ? info : undefined;
  }

  /** The instance in a slot's container, if it is ours and holds what the spec asks for. */
  private owned(info: Docker.ContainerInspectInfo, spec: InstanceSpec): Instance {
    const instance = instanceOf(info, spec.host, this.address(spec.host));
    const name = containerName(spec);
    if (instance === undefined) {
      throw new GantryError(
        'GANTRY_ERR_INSTANCE_CONFLICT',
        `the name ${name} on host "${spec.host}" is held by a container Gantry did not create`,
      );
    }
    // A slot is deterministic per rollout: another revision in it means two plans disagree.
    if (instance.revision !== spec.revision || instance.image !== spec.image) {
      throw new GantryError(
        'GANTRY_ERR_INSTANCE_CONFLICT',
        `slot ${spec.slot} of ${spec.app}/${spec.env} on host "${spec.host}" already runs revision ${instance.revision.slice(0, 12)}`,
      );
    }
    return instance;
  }

  private assertManaged(info: Docker.ContainerInspectInfo, instance: Instance): void {
    if (!isManaged(info.Config.Labels)) {
      throw new GantryError(
        'GANTRY_ERR_INSTANCE_CONFLICT',
        `container ${instance.id.slice(0, 12)} on host "${instance.host}" was not created by Gantry; not touching it`,
      );
    }
  }
}
