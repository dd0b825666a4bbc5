import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Sample } from './load.js';

export type { Sample } from './load.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

export interface LoadResult {
  codes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Requests autocannon sent. */
  sent: number;
  p50: number;
  p99: number;
  seconds: number;
  /** Epoch ms the load process started its run. */
  startedAt: number;
  /** Every answer, when the job asked for samples. */
  samples?: Sample[];
}

export interface LoadJob {
  url: string;
  /** Requests a second over all connections; 0: as fast as the connections are answered. */
  rate: number;
  /** How long to run; with startLoad, the longest it may run before stop() is called. */
  seconds: number;
  connections?: number;
  /** Default POST. */
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  uniqueHeader?: string;
  /** Return every answer with its completion time, latency and status. */
  samples?: boolean;
  /** autocannon instances sharing the rate, staggered over each second (see load.ts). */
  spread?: number;
}

function loadArgs(job: LoadJob & { untilStdin?: boolean }): string[] {
  return [
    '--import',
    'tsx',
    path.join(here, 'load.ts'),
    JSON.stringify({ connections: 32, ...job }),
  ];
}

/** Runs bench/lib/load.ts in a child process for `job.seconds` and returns its summary. */
export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, loadArgs(job), { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as LoadResult;
}

/** A load running in its own process until stop() (or until `seconds` pass). */
export interface RunningLoad {
  /** Ends the load (autocannon finishes within its one-second sampling tick) and returns its summary. */
  stop(): Promise<LoadResult>;
}

/** Starts bench/lib/load.ts in a child process; resolves once autocannon has started. */
export async function startLoad(job: LoadJob): Promise<RunningLoad> {
  const child = spawn(process.execPath, loadArgs({ ...job, untilStdin: true }), {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<LoadResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && stdout !== '') resolve(JSON.parse(stdout) as LoadResult);
      else reject(new Error(`load process exited with ${code}: ${stderr.trim().slice(-2000)}`));
    });
  });
  // Keep an early crash from being an unhandled rejection before stop() is called.
  exited.catch(() => undefined);
  await Promise.race([
    new Promise<void>((resolve) => {
      const ready = () => {
        if (!stderr.includes('ready\n')) return;
        child.stderr.off('data', ready);
        resolve();
      };
      child.stderr.on('data', ready);
    }),
    exited.then(() => {
      throw new Error('load process ended before it started');
    }),
  ]);
  return {
    stop() {
      if (child.exitCode === null) child.stdin.end('stop\n');
      return exited;
    },
  };
}
