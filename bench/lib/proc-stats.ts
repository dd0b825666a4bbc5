/** CPU time and resident memory of another process, from Linux's /proc (no sampling inside it). */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Clock ticks per second of /proc/<pid>/stat times: 100 on every Linux this runs on. */
const TICKS_PER_S = 100;

/** User + system CPU seconds `pid` has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, inside parentheses).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** Resident set size of `pid` in MB. */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Share of one core `pid` used over `seconds` (0.05 = 5 %), and its RSS at the end. */
export async function idleUse(pid: number, seconds: number): Promise<{ cpu: number; rss: number }> {
  const c0 = await cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = (await cpuSeconds(pid)) - c0;
  return { cpu: cpu / ((performance.now() - t0) / 1000), rss: await rssMb(pid) };
}
