/**
 * Docker Swarm as the peer for rollout durations: builders that return the `docker` argv (never
 * run it), and a thin executor with the few waits the bench needs. Swarm services here publish no
 * port (the routing mesh needs IPVS, which not every kernel has); the health check runs inside
 * each container, on its own loopback.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SwarmHealth {
  /** Run by the container's shell (Docker's CMD-SHELL). */
  readonly cmd: string;
  readonly intervalS: number;
  readonly timeoutS: number;
  readonly retries: number;
  readonly startPeriodS: number;
}

export interface SwarmServiceSpec {
  readonly name: string;
  /** A local image: services are created and updated with `--no-resolve-image`. */
  readonly image: string;
  readonly replicas: number;
  readonly health: SwarmHealth;
  /** `--update-monitor`: how long Swarm watches each updated task for a failure. */
  readonly monitorS: number;
  /** `--restart-delay` before a failed task is replaced; Swarm's default (5 s) when absent. */
  readonly restartDelayS?: number;
}

/** `docker info` field saying whether this engine is in a swarm (`inactive`, `active`, …). */
export function swarmStateArgs(): string[] {
  return ['info', '--format', '{{.Swarm.LocalNodeState}}'];
}

export function swarmInitArgs(): string[] {
  return ['swarm', 'init', '--advertise-addr', '127.0.0.1'];
}

export function swarmLeaveArgs(): string[] {
  return ['swarm', 'leave', '--force'];
}

/** The service: start-first, one at a time, roll back on failure (and roll back start-first). */
export function serviceCreateArgs(s: SwarmServiceSpec): string[] {
  return [
    'service',
    'create',
    '--detach',
    '--name',
    s.name,
    '--replicas',
    String(s.replicas),
    '--no-resolve-image',
    // An init as PID 1 forwards SIGTERM, as Gantry's instances have (busybox httpd ignores it as PID 1).
    '--init',
    '--health-cmd',
    s.health.cmd,
    '--health-interval',
    `${s.health.intervalS}s`,
    '--health-timeout',
    `${s.health.timeoutS}s`,
    '--health-retries',
    String(s.health.retries),
    '--health-start-period',
    `${s.health.startPeriodS}s`,
    '--update-order',
    'start-first',
    '--update-parallelism',
    '1',
    '--update-delay',
    '0s',
    '--update-failure-action',
    'rollback',
    '--update-max-failure-ratio',
    '0',
    '--update-monitor',
    `${s.monitorS}s`,
    '--rollback-order',
    'start-first',
    '--rollback-parallelism',
    '1',
    '--rollback-monitor',
    `${s.monitorS}s`,
    ...(s.restartDelayS === undefined ? [] : ['--restart-delay', `${s.restartDelayS}s`]),
    s.image,
  ];
}

export function serviceUpdateImageArgs(name: string, image: string): string[] {
  return ['service', 'update', '--detach', '--no-resolve-image', '--image', image, name];
}

export function serviceUpdateStatusArgs(name: string): string[] {
  return ['service', 'inspect', '--format', '{{json .UpdateStatus}}', name];
}

/** `ID|image|desired state|current state`, one line per task, current and past. */
export function serviceTasksArgs(name: string): string[] {
  return [
    'service',
    'ps',
    '--no-trunc',
    '--format',
    '{{.ID}}|{{.Image}}|{{.DesiredState}}|{{.CurrentState}}',
    name,
  ];
}

export function serviceRemoveArgs(name: string): string[] {
  return ['service', 'rm', name];
}

export function taskContainerArgs(taskId: string): string[] {
  return [
    'inspect',
    '--type',
    'task',
    '--format',
    '{{.Status.ContainerStatus.ContainerID}}',
    taskId,
  ];
}

export function containerStateArgs(containerId: string): string[] {
  return ['container', 'inspect', '--format', '{{json .State}}', containerId];
}

/** Runs `docker args…` (argv, never a shell) and returns its trimmed stdout. */
export async function docker(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('docker', [...args], {
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

/** Makes this engine a swarm manager if it is not in a swarm; says whether it did. */
export async function ensureSwarm(): Promise<{ initialised: boolean }> {
  const state = await docker(swarmStateArgs());
  if (state === 'active') return { initialised: false };
  await docker(swarmInitArgs());
  return { initialised: true };
}

export interface UpdateStatus {
  State?: string;
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

export async function updateStatus(name: string): Promise<UpdateStatus | null> {
  return JSON.parse(await docker(serviceUpdateStatusArgs(name))) as UpdateStatus | null;
}

/** Where an update ends: done, rolled back, or stopped half-way. */
export const UPDATE_END_STATES = ['completed', 'rollback_completed', 'paused', 'rollback_paused'];

/**
 * Updates the service's image and polls until the update (or the rollback it turned into) ends.
 * Returns the end state and when it was first seen (epoch ms), polled every `pollMs`.
 */
export async function updateAndWait(
  name: string,
  image: string,
  opts: { timeoutMs: number; pollMs?: number },
): Promise<{ startedAt: number; endedAt: number; status: UpdateStatus }> {
  const before = await updateStatus(name);
  const startedAt = Date.now();
  await docker(serviceUpdateImageArgs(name, image));
  for (;;) {
    const now = Date.now();
    const status = await updateStatus(name);
    // A previous update's end state stays until this one starts: wait for a new StartedAt.
    const fresh = status?.StartedAt !== undefined && status.StartedAt !== before?.StartedAt;
    if (fresh && UPDATE_END_STATES.includes(status.State ?? '')) {
      return { startedAt, endedAt: now, status };
    }
    if (now - startedAt > opts.timeoutMs) {
      throw new Error(
        `swarm update of ${name} did not end in ${opts.timeoutMs} ms: ${JSON.stringify(status)}`,
      );
    }
    await sleep(opts.pollMs ?? 100);
  }
}

export interface SwarmTask {
  id: string;
  image: string;
  desired: string;
  current: string;
}

export async function tasks(name: string): Promise<SwarmTask[]> {
  const out = await docker(serviceTasksArgs(name));
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [id = '', image = '', desired = '', current = ''] = l.split('|');
      return { id, image, desired, current };
    });
}

/** Polls until `replicas` tasks of `image` are running (healthy, when the service has a check). */
export async function waitRunning(
  name: string,
  image: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const running = (await tasks(name)).filter(
      (t) => t.image === image && t.desired === 'Running' && t.current.startsWith('Running'),
    );
    if (running.length >= replicas) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${name}: ${running.length}/${replicas} tasks running after ${timeoutMs} ms`);
    }
    await sleep(200);
  }
}

interface ContainerState {
  StartedAt?: string;
  Health?: { Log?: { Start?: string; ExitCode?: number }[] };
}

/**
 * The first failed health check that counted (after the start period) in any task of `image`,
 * as epoch ms, from the containers' health logs (Docker keeps the last five checks); undefined
 * if no such check is left to read.
 */
export async function firstCountedFailure(
  name: string,
  image: string,
  startPeriodMs: number,
): Promise<number | undefined> {
  let first: number | undefined;
  for (const t of (await tasks(name)).filter((t) => t.image === image)) {
    const cid = await docker(taskContainerArgs(t.id)).catch(() => '');
    if (cid === '') continue;
    const state = JSON.parse(
      await docker(containerStateArgs(cid)).catch(() => 'null'),
    ) as ContainerState | null;
    const startedAt = epochMs(state?.StartedAt);
    if (state === null || startedAt === undefined) continue;
    for (const check of state.Health?.Log ?? []) {
      const at = epochMs(check.Start);
      if (at === undefined || check.ExitCode === 0 || at < startedAt + startPeriodMs) continue;
      first = first === undefined ? at : Math.min(first, at);
    }
  }
  return first;
}

/** Docker's RFC 3339 timestamps carry nanoseconds; Date.parse wants at most milliseconds. */
export function epochMs(ts: string | undefined): number | undefined {
  if (ts === undefined) return undefined;
  const ms = Date.parse(ts.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) || ms <= 0 ? undefined : ms;
}
