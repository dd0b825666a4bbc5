/**
 * The controller's way to the managed edge: find the supervisor already running for a directory
 * (started by an earlier controller, which may since have died) or start one, detached, so that
 * the edge outlives this process — including a SIGKILL to this process's whole group.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { GantryError, errorMessage } from '../../errors.js';
import { lock, lockHolder } from '../../process/lock-file.js';
import { argvOf, findProcesses, isRunning, terminate } from '../../process/pid.js';
import { caddyAnswers, caddyRunning } from './caddy-process.js';
import { TIERS, adminUrlOf, edgePaths, readEdgeState } from './edge-state.js';
import { supervisorRunning } from './supervisor.js';

/** Where the controller drives the edge (`CaddyEdgeOptions`). */
export interface EdgeEndpoints {
  readonly frontAdminUrl: string;
  readonly backAdminUrl: string;
  /** Where both tiers write their access logs. */
  readonly logDir: string;
  /**
   * The PEM file of the root that signs `tls internal` certificates (in the front's storage;
   * Caddy creates it on first start, and keeps it across restarts).
   */
  readonly caRootFile: string;
}

// From src/edge/supervisor/ and from dist/edge/supervisor/ alike.
const BIN = fileURLToPath(new URL('../../../bin/gantry.js', import.meta.url));

/** Adopts the edge supervised in `dir`, or starts its supervisor; resolves once both tiers answer. */
export async function ensureEdge(opts: {
  dir: string;
  timeoutMs?: number;
}): Promise<EdgeEndpoints> {
  const dir = resolve(opts.dir);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const paths = edgePaths(dir);
  try {
    await mkdir(dir, { recursive: true });
    // Two controllers starting at once on one directory must not both start a supervisor.
    const release = await lock(paths.ensureLock, timeoutMs);
    try {
      const running = await liveSupervisor(dir);
      return await waitServing(dir, running ?? (await spawnSupervisor(dir)), timeoutMs);
    } finally {
      await release();
    }
  } catch (e) {
    throw new GantryError(
      'GANTRY_ERR_EDGE_UNAVAILABLE',
      `cannot start the edge in ${dir}: ${errorMessage(e)}`,
      { cause: e },
    );
  }
}

/**
 * Stops the edge in `dir`: the supervisor (which stops its Caddy processes), then any Caddy a
 * supervisor killed with SIGKILL left behind. Resolves once nothing of it runs.
 */
export async function stopEdge(dir: string): Promise<void> {
  const abs = resolve(dir);
  const paths = edgePaths(abs);
  if (!(await stat(abs).catch(() => undefined))) return;
  const release = await lock(paths.ensureLock, 30_000);
  try {
    const before = await readEdgeState(abs);
    const supervisor = await liveSupervisor(abs);
    if (supervisor !== undefined) await terminate(supervisor, supervisorRunning(abs), 15_000);
    const after = await readEdgeState(abs);
    for (const tier of TIERS) {
      const match = caddyRunning(paths[tier].configFile, { resume: true });
      // Those edge.json names, and any a supervisor started but died before recording.
      const pids = [before[tier]?.pid, after[tier]?.pid, ...(await findProcesses(match))];
      for (const pid of new Set(pids)) if (pid !== undefined) await terminate(pid, match, 5_000);
    }
  } finally {
    await release();
  }
}

/**
 * Stops every edge whose directory lies under `root` — supervised, or Caddy left by a killed
 * supervisor — and returns their directories. A safety net for test runs, whose controllers
 * leave their edges serving by design.
 */
export async function stopEdgesUnder(root: string): Promise<string[]> {
  const prefix = `${resolve(root)}/`;
  const dirs = new Set<string>();
  for (const pid of await findProcesses((argv) => argv.includes('edge'))) {
    const argv = (await argvOf(pid)) ?? [];
    const dir = argv[argv.indexOf('--dir') + 1];
    if (argv.includes('--dir') && dir?.startsWith(prefix)) dirs.add(dir);
  }
  for (const pid of await findProcesses((argv) => basename(argv[0] ?? '') === 'caddy')) {
    const argv = (await argvOf(pid)) ?? [];
    const config = argv[argv.indexOf('--config') + 1];
    // DIR/<tier>/caddy.json
    if (argv.includes('--resume') && config?.startsWith(prefix)) {
      dirs.add(dirname(dirname(config)));
    }
  }
  for (const dir of dirs) await stopEdge(dir);
  return [...dirs];
}

/** The pid of the supervisor running for `dir`: the one edge.json names, or one still starting. */
async function liveSupervisor(dir: string): Promise<number | undefined> {
  const match = supervisorRunning(dir);
  const { supervisorPid } = await readEdgeState(dir);
  if (await isRunning(supervisorPid, match)) return supervisorPid;
  const holder = await lockHolder(edgePaths(dir).supervisorLock);
  return (await isRunning(holder, match)) ? holder : undefined;
}

/**
 * `gantry edge --dir DIR` detached in a session of its own, output appended to DIR/edge.log, not
 * waited for by this process: it must survive us.
 */
async function spawnSupervisor(dir: string): Promise<number> {
  const fd = openSync(edgePaths(dir).log, 'a');
  try {
    const child = spawn(process.execPath, [BIN, 'edge', '--dir', dir], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    await new Promise<void>((ok, fail) => {
      child.once('spawn', ok);
      child.once('error', fail);
    });
    child.unref();
    return child.pid ?? -1;
  } finally {
    closeSync(fd);
  }
}

/** Waits until supervisor `pid` has recorded itself in edge.json and both admin APIs answer. */
async function waitServing(dir: string, pid: number, timeoutMs: number): Promise<EdgeEndpoints> {
  const paths = edgePaths(dir);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readEdgeState(dir);
    const { front, back } = state;
    if (
      state.supervisorPid === pid &&
      front &&
      back &&
      (await caddyAnswers(adminUrlOf(front), paths.front.storage)) &&
      (await caddyAnswers(adminUrlOf(back), paths.back.storage))
    ) {
      return {
        frontAdminUrl: adminUrlOf(front),
        backAdminUrl: adminUrlOf(back),
        logDir: dir,
        caRootFile: paths.front.caRoot,
      };
    }
    if (!(await isRunning(pid, supervisorRunning(dir)))) {
      throw new Error(
        `the edge supervisor (pid ${pid}) exited; ${paths.log}:\n${await tail(paths.log)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the edge did not answer within ${timeoutMs} ms; ${paths.log}:\n${await tail(paths.log)}`,
      );
    }
    await sleep(100);
  }
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-10).join('\n');
}
