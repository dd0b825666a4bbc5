/**
 * The simulated node's kubelet: one PodWorker per pod, started when a pod appears, stopped
 * gracefully when it gets a deletionTimestamp; also serves pod logs and pod proxy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIM_LABEL } from './container-spec.js';
import { PodWorker, type WorkerDeps } from './pod-worker.js';
import { forward } from './proxy.js';
import type { PodBackend } from './routes.js';
import { badRequest, StatusError } from './status.js';
import type { Change } from './store.js';
import type { Pod } from './types.js';

/** Splits Docker's multiplexed log stream (8-byte frame headers) into plain text. */
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2 || buf[i] === 0)) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return i === 0 ? buf.toString('utf8') : Buffer.concat(out).toString('utf8');
}

export class Kubelet implements PodBackend {
  private readonly workers = new Map<string, PodWorker>();
  private unsubscribe = (): void => undefined;

  constructor(private readonly deps: WorkerDeps) {}

  /** Starts following the store's pods. */
  start(): void {
    this.unsubscribe = this.deps.store.subscribe((c) => this.onChange(c));
  }

  private onChange(c: Change): void {
    if (c.def.plural !== 'pods') return;
    const pod = c.object as Pod;
    const uid = pod.metadata.uid!;
    const worker = this.workers.get(uid);
    if (c.type === 'ADDED' && !worker) {
      const w = new PodWorker(this.deps, pod);
      this.workers.set(uid, w);
      w.start();
    } else if (c.type === 'MODIFIED' && worker && pod.metadata.deletionTimestamp) {
      void worker
        .terminate(pod.metadata.deletionGracePeriodSeconds ?? 30, true)
        .finally(() => this.workers.delete(uid));
    } else if (c.type === 'DELETED' && worker) {
      // Removed without grace (gracePeriodSeconds=0): the containers go at once.
      void worker.terminate(0, false).finally(() => this.workers.delete(uid));
    }
  }

  private worker(pod: Pod): PodWorker | undefined {
    return this.workers.get(pod.metadata.uid!);
  }

  /** `GET pods/{name}/log`: the container's output, the last `tailLines` lines. */
  async logs(
    pod: Pod,
    opts: { container?: string; tailLines?: number; previous: boolean },
  ): Promise<string> {
    const w = this.worker(pod);
    const name = opts.container ?? pod.spec.containers[0]!.name;
    if (name !== pod.spec.containers[0]!.name) return '';
    const container = opts.previous ? w?.previous : w?.current;
    if (!container) {
      if (opts.previous)
        throw badRequest(
          `previous terminated container "${name}" in pod "${pod.metadata.name}" not found`,
        );
      const reason =
        pod.status?.containerStatuses?.[0]?.state.waiting?.reason ?? 'ContainerCreating';
      throw badRequest(
        `container "${name}" in pod "${pod.metadata.name}" is waiting to start: ${reason}`,
      );
    }
    const buf = (await container.logs({
      stdout: true,
      stderr: true,
      follow: false,
      tail: opts.tailLines ?? -1,
    })) as unknown as Buffer;
    return demux(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
  }

  /** `pods/{name}[:{port}]/proxy/{path}`: forwards to the container's port on 127.0.0.1. */
  async proxy(
    pod: Pod,
    port: string | undefined,
    path: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const host = this.worker(pod)?.hostPort(port);
    if (host === undefined) {
      throw new StatusError(
        503,
        'ServiceUnavailable',
        `no endpoints available for pod "${pod.metadata.name}"${port ? ` port ${port}` : ''}`,
      );
    }
    await forward(host, path, req, res);
  }

  /** Stops every pod at once and removes every container this simulator started. */
  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all([...this.workers.values()].map((w) => w.kill()));
    this.workers.clear();
    const { docker, simId } = this.deps;
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${SIM_LABEL}=${simId}`] },
    });
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
  }
}
