/**
 * Child daemons for local development and tests (Redis, the registry): spawned with their output in
 * a log file, found ready by polling, stopped on request and killed when this process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running child daemon. */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** The exit code or signal once the process has ended, `undefined` while it runs. */
  exitStatus(): string | undefined;
  /** The last lines of its log, to explain a failure. */
  logTail(lines?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// One hook for all daemons: a test run or demo that dies without stopping them must not leave
// Redis and the registry behind holding ports.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGTERM');
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Spawns `command args…` with stdout and stderr appended to `logFile`; rejects if it cannot start. */
export async function spawnDaemon(opts: {
  name: string;
  command: string;
  args: readonly string[];
  logFile: string;
  cwd?: string;
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}): Promise<Daemon> {
  // The child writes straight into the file: no pipe to drain, nothing lost if we die first.
  const fd = openSync(opts.logFile, 'a');
  // The log may hold earlier runs (a restarted demo); failures quote only what this run wrote.
  const logStart = fstatSync(fd).size;
  let child: ChildProcess;
  try {
    child = spawn(opts.command, [...opts.args], {
      cwd: opts.cwd,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
    });
  } finally {
    closeSync(fd);
  }

  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new Error(`${opts.command} not found on PATH; run \`bash scripts/setup.sh\``)
          : err,
      );
    });
  });

  const pid = child.pid ?? -1;
  let status: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = signal ?? `exit code ${String(code)}`;
      live.delete(child);
      resolve();
    });
  });
  live.add(child);
  installExitHook();
  // Do not keep the event loop alive for a daemon; the exit hook cleans up.
  child.unref();

  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    exitStatus: () => status,
    logTail: async (lines = 20) => {
      const log = await readFile(opts.logFile).catch(() => Buffer.alloc(0));
      const text = log.subarray(logStart).toString('utf8');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
    stop: async (graceMs = 5_000) => {
      if (status !== undefined) return;
      child.ref(); // keep the process alive until the child is really gone
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `check` until it returns true. Fails early, with the log tail, if the daemon exits, and
 * after `timeoutMs` otherwise.
 */
export async function waitReady(
  daemon: Daemon,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    const status = daemon.exitStatus();
    if (status !== undefined) {
      throw new Error(
        `${daemon.name} exited (${status}) before ${what}; log ${daemon.logFile}:\n${await daemon.logTail()}`,
      );
    }
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(
        `${daemon.name} not ready (${what}) after ${timeoutMs} ms; log ${daemon.logFile}:\n${await daemon.logTail()}`,
      );
    }
    await sleep(100);
  }
}
