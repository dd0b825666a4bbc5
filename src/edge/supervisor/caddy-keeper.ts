/**
 * Keeps one supervised Caddy (front or back) running: adopts the one a previous supervisor left,
 * or starts `caddy run --resume`, and starts it again whenever it dies.
 *
 * Caddy is started detached, in a session of its own, and is never killed with the supervisor:
 * a supervisor that dies (or whose process group is killed) leaves the edge serving, and the
 * next one adopts it. Caddy runs with `admin.config.persist: true` and `$XDG_CONFIG_HOME` under
 * the tier's directory, so it autosaves every config the controller loads; `--resume` starts from
 * that autosave instead of the initial config (checked on Caddy 2.6.2: routes POSTed through the
 * admin API answer again after kill -9 and restart). The admin API is a Unix socket at a fixed
 * path in the tier's 0700 directory, so it never moves and no other local user reaches it. A Caddy
 * an older Gantry started on a TCP admin port is adopted as it is; when it restarts, the autosave
 * is pointed at the socket first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../errors.js';
import { minimalEnv } from '../../process/child-env.js';
import { findProcesses, isRunning, terminate } from '../../process/pid.js';
import { adminListenOf, adminSocketUrl, adminUrlOfListen } from '../caddy/admin-endpoint.js';
import type { Tier } from '../caddy/names.js';
import {
  caddyAnswers,
  caddyInitialConfig,
  caddyRunning,
  privateDir,
  stopLeftover,
} from './caddy-process.js';
import { adminUrlOf, type EdgePaths, type TierState } from './edge-state.js';

/** How often an adopted Caddy (not our child: no exit event) is checked for liveness. */
const ADOPTED_POLL_MS = 200;
/** How long a started Caddy may take to answer on its admin API. */
const READY_TIMEOUT_MS = 15_000;
/** A Caddy that ran this long before dying is restarted at once; sooner, with backoff. */
const HEALTHY_RUN_MS = 10_000;

/** Milliseconds to wait before restart number `failures` in a row: 0, 100, 200, 400 … 5 s. Pure. */
export function restartDelay(failures: number): number {
  return failures <= 0 ? 0 : Math.min(5_000, 100 * 2 ** (failures - 1));
}

export interface KeeperOptions {
  readonly tier: Tier;
  readonly paths: EdgePaths[Tier];
  readonly log: (line: string) => void;
  /** Called whenever the pid changes, so edge.json always names the running process. */
  readonly onChange: (state: TierState) => void;
}

export class CaddyKeeper {
  private state: TierState | undefined;
  private child: ChildProcess | undefined;
  private poll: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private failures = 0;
  private startedAt = 0;

  constructor(private readonly opts: KeeperOptions) {}

  /** The running process: adopted from `previous` when it still runs, else started. */
  async start(previous: TierState | undefined): Promise<TierState> {
    // edge.json names the process, unless a supervisor died between starting Caddy and saying
    // so: then /proc knows it by its config file.
    const running = await findProcesses(this.match());
    const pid = running.includes(previous?.pid ?? -1) ? previous?.pid : running[0];
    const kept = previous?.adminUrl ?? (await this.autosavedAdminUrl());
    if (pid !== undefined && kept !== undefined) {
      const candidate = { adminUrl: kept, pid };
      if (await this.adoptable(candidate)) {
        // Only one can hold the admin port; any other is a leftover.
        for (const stray of running) if (stray !== pid) await terminate(stray, this.match());
        this.state = candidate;
        this.startedAt = Date.now();
        this.opts.log(`${this.opts.tier}: adopted Caddy pid ${pid} on ${adminUrlOf(candidate)}`);
        this.watchAdopted(pid);
        return candidate;
      }
    }
    // Running our config but not answering: wedged, yet holding the listeners.
    for (const stray of running) await terminate(stray, this.match(), 5_000);
    // An unsupervised Caddy (startCaddy) on this directory would hold the listeners.
    await stopLeftover(this.opts.paths.pidFile, this.opts.paths.configFile);
    return this.launch();
  }

  /** Stops Caddy (SIGTERM, SIGKILL after 5 s) and watching it. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.poll);
    clearTimeout(this.restartTimer);
    const pid = this.state?.pid;
    if (pid !== undefined) await terminate(pid, this.match(), 5_000);
  }

  private match() {
    return caddyRunning(this.opts.paths.configFile, { resume: true });
  }

  private async adoptable(previous: TierState): Promise<boolean> {
    if (!(await isRunning(previous.pid, this.match()))) return false;
    // It may be starting up (restarted by the supervisor that just died): give it a moment.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (await caddyAnswers(adminUrlOf(previous), this.opts.paths.storage)) return true;
      if (!(await isRunning(previous.pid, this.match()))) return false;
      await sleep(100);
    }
    return false;
  }

  // No exit event for a process that is not our child: poll /proc.
  private watchAdopted(pid: number): void {
    let checking = false;
    this.poll = setInterval(() => {
      if (checking) return;
      checking = true;
      void isRunning(pid, this.match()).then((alive) => {
        checking = false;
        if (alive || this.stopping || this.state?.pid !== pid) return;
        clearInterval(this.poll);
        this.died(pid, 'is gone');
      });
    }, ADOPTED_POLL_MS);
  }

  private died(pid: number, why: string): void {
    if (this.stopping) return;
    const ranMs = Date.now() - this.startedAt;
    this.failures = ranMs >= HEALTHY_RUN_MS ? 0 : this.failures + 1;
    const delay = restartDelay(this.failures);
    this.opts.log(
      `${this.opts.tier}: Caddy pid ${pid} ${why} after ${ranMs} ms; restart in ${delay} ms`,
    );
    this.restartTimer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    try {
      const state = await this.launch();
      this.opts.log(`${this.opts.tier}: Caddy pid ${String(state.pid)} serves again`);
    } catch (e) {
      this.died(this.state?.pid ?? -1, `failed to start (${errorMessage(e)})`);
    }
  }

  /** Starts Caddy and resolves once its admin API answers as ours on the tier's socket. */
  private async launch(): Promise<TierState> {
    const { paths } = this.opts;
    if (this.stopping) throw new Error(`${this.opts.tier}: the supervisor is stopping`);
    await privateDir(paths.root);
    await this.repairAutosave();
    // Only launched when no Caddy of this tier runs: a socket file left is stale.
    await rm(paths.adminSocket, { force: true });
    const adminUrl = adminSocketUrl(paths.adminSocket);
    const initial = caddyInitialConfig(paths.root, { persist: true });
    await writeFile(paths.configFile, JSON.stringify(initial, null, 2));
    const fd = openSync(paths.logFile, 'a');
    // The log holds earlier runs; a failure quotes only what this one wrote.
    const logStart = fstatSync(fd).size;
    let child: ChildProcess;
    try {
      child = spawn('caddy', ['run', '--resume', '--config', paths.configFile], {
        cwd: paths.root,
        // Its own session: neither the supervisor's death nor a signal to its group reaches it.
        detached: true,
        stdio: ['ignore', fd, fd],
        // Not the controller's environment: it holds GANTRY_* settings, tokens and keys.
        env: minimalEnv(process.env, {
          XDG_CONFIG_HOME: paths.configHome,
          XDG_DATA_HOME: paths.dataHome,
        }),
      });
    } finally {
      closeSync(fd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const pid = child.pid ?? -1;
    if (this.stopping) {
      // stop() ran while we were spawning: it could not see this process.
      child.kill('SIGTERM');
      throw new Error(`${this.opts.tier}: the supervisor is stopping`);
    }
    let exited: string | undefined;
    let ready = false;
    child.once('exit', (code, signal) => {
      exited = signal ?? `exit code ${String(code)}`;
      if (ready && this.child === child) {
        this.child = undefined;
        this.died(pid, `exited (${exited})`);
      }
    });
    this.child = child;
    this.startedAt = Date.now();
    this.state = { adminUrl, pid };
    this.opts.onChange(this.state);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await caddyAnswers(adminUrlOf(this.state), paths.storage))) {
      if (exited === undefined && Date.now() < deadline) {
        await sleep(50);
        continue;
      }
      if (exited === undefined) child.kill('SIGKILL');
      const log = (await readFile(paths.logFile).catch(() => Buffer.alloc(0)))
        .subarray(logStart)
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .slice(-10)
        .join('\n');
      throw new Error(
        `${this.opts.tier} Caddy ${exited ? `exited (${exited})` : 'did not answer'} before its admin API was ready; ${paths.logFile}:\n${log}`,
      );
    }
    if (exited !== undefined) throw new Error(`${this.opts.tier} Caddy exited (${exited})`);
    ready = true;
    return this.state;
  }

  /**
   * Caddy writes its autosave in place, not atomically: killed mid-write, it leaves a file that
   * `--resume` cannot parse, and Caddy would refuse to start. Keep the last readable one and put
   * it back in that case; with neither, Caddy starts from the initial config (routes are lost
   * and the controller must apply them again).
   */
  private async repairAutosave(): Promise<void> {
    const { autosave, lastGood } = this.opts.paths;
    const text = await readFile(autosave, 'utf8').catch(() => undefined);
    if (text === undefined) return;
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(text) as Record<string, unknown>;
      await writeFile(lastGood, text);
    } catch {
      const good = await readFile(lastGood, 'utf8').catch(() => undefined);
      this.opts.log(
        `${this.opts.tier}: ${autosave} is unreadable; ${good ? 'restoring the last good copy' : 'starting empty'}`,
      );
      if (good === undefined) await rm(autosave, { force: true });
      else await writeFile(autosave, good);
      return;
    }
    // `--resume` takes the admin address from the autosave: one an older Gantry wrote names a
    // TCP port, which any local user could reach.
    const listen = adminListenOf(this.opts.paths.adminSocket);
    const admin = (config.admin ?? {}) as Record<string, unknown>;
    if (admin.listen !== listen) {
      await writeFile(autosave, JSON.stringify({ ...config, admin: { ...admin, listen } }));
    }
  }

  /** The admin URL of an autosaved config, when edge.json was lost but Caddy's state was not. */
  private async autosavedAdminUrl(): Promise<string | undefined> {
    const text = await readFile(this.opts.paths.autosave, 'utf8').catch(() => '');
    try {
      return adminUrlOfListen((JSON.parse(text) as { admin?: { listen?: unknown } }).admin?.listen);
    } catch {
      return undefined;
    }
  }
}
