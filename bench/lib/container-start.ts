/**
 * How long the engine takes to start a container of an image (`docker run -d` until it returns:
 * created, started), the "container start" of the rollout floor. Removes what it started.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `docker run` argv for one timed start: detached, no published port, labelled as the bench's. */
export function timedRunArgs(image: string, label: string): string[] {
  return ['run', '-d', '--label', label, image];
}

/** The median of `n` starts (ms). */
export async function containerStartMs(image: string, n = 3): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    const { stdout } = await run('docker', timedRunArgs(image, 'gantry-bench=container-start'));
    times.push(performance.now() - t0);
    await run('docker', ['rm', '-f', stdout.trim()]);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}
