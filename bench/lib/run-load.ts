import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

export interface LoadResult {
  codes: Record<string, number>;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
  seconds: number;
}

/** Runs bench/lib/load.ts in a child process and returns its summary. */
export async function runLoad(job: {
  url: string;
  rate: number;
  seconds: number;
  connections?: number;
  body: string;
  headers: Record<string, string>;
  uniqueHeader?: string;
}): Promise<LoadResult> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'load.ts'), JSON.stringify({ connections: 32, ...job })],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as LoadResult;
}
