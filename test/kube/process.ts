/**
 * A control-plane process: started with its output in a log file, stopped with SIGTERM then
 * SIGKILL, and killed when the test process exits whatever happened (a crashed test must not
 * leave an API server behind).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set<ChildProcess>();
let hooked = false;

function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}

export class Proc {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly name: string,
    readonly bin: string,
    readonly args: readonly string[],
    readonly logFile: string,
    /** Where the pid goes for the watchdog: outside the test run's folder, which teardown removes. */
    readonly pidDir: string,
  ) {}

  /** Starts (or starts again) the process; its output is appended to the log file. */
  start(): void {
    killAllOnExit();
    const fd = openSync(this.logFile, 'a');
    const child = spawn(this.bin, this.args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    live.add(child);
    this.child = child;
    // For the watchdog (watchdog.ts), which outlives this process if it is killed.
    if (child.pid !== undefined)
      writeFileSync(join(this.pidDir, `${this.name}.pid`), `${child.pid}\n`);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        live.delete(child);
        resolve(code);
      });
      child.once('error', () => {
        live.delete(child);
        resolve(-1);
      });
    });
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const done = await Promise.race([
      this.exited.then(() => true),
      sleep(graceMs).then(() => false),
    ]);
    if (!done) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** The last lines of the log, for an error message. */
  async tail(lines = 30): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }
}
