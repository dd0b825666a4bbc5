/**
 * Processes known only by pid (not our children): what they run, whether they still run, and
 * stopping them. A pid can be reused by another program, so callers say what argv they expect
 * and a stranger is never signalled. Linux only (/proc).
 */
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Tells whether an argv is the process the caller means. */
export type ArgvMatch = (argv: readonly string[]) => boolean;

/**
 * The argv of `pid`, or undefined when no such process runs. A zombie has an empty cmdline, so it
 * counts as gone: a process reparented to an init that never reaps would otherwise look alive.
 */
export async function argvOf(pid: number): Promise<string[] | undefined> {
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (raw === '') return undefined;
  return raw.replace(/\0$/, '').split('\0');
}

/** Whether `pid` runs and its argv is what `match` expects (any argv when `match` is omitted). */
export async function isRunning(pid: number | undefined, match?: ArgvMatch): Promise<boolean> {
  if (pid === undefined) return false;
  const argv = await argvOf(pid);
  return argv !== undefined && (match === undefined || match(argv));
}

/** The pids of every process whose argv `match` accepts (a scan of /proc), lowest first. */
export async function findProcesses(match: ArgvMatch): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await argvOf(Number(entry));
    if (argv !== undefined && match(argv)) found.push(Number(entry));
  }
  return found.sort((a, b) => a - b);
}

/** Resolves true once `pid` no longer runs `match`, false after `timeoutMs`. */
export async function waitGone(pid: number, match: ArgvMatch, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isRunning(pid, match)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, then SIGKILL after `graceMs`; only if `pid` still runs `match`. Resolves once gone. */
export async function terminate(pid: number, match: ArgvMatch, graceMs = 5_000): Promise<void> {
  if (!(await isRunning(pid, match))) return;
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, match, graceMs)) return;
  signal(pid, 'SIGKILL');
  await waitGone(pid, match, 5_000);
}

// The process may end between the check and the signal: that is what we wanted anyway.
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}
