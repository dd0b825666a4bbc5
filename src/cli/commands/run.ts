/**
 * `gantry run APP [--env E] [--timeout 30m] -- CMD ARG…`: the command's output as it runs (stdout
 * to stdout, stderr to stderr), then the command's own exit code as gantry's (124 when it timed
 * out). Input piped into gantry (a file or a pipe, not a terminal) is sent along as its stdin.
 */
import { fstatSync } from 'node:fs';
import { errorMessage } from '../../errors.js';
import { apiFailureOf, appPath, type ClientOptions } from '../client.js';
import { EXIT } from '../exit.js';
import type { Ctx } from './context.js';

/** The exit code of a command that ran out of time, as coreutils' `timeout` says it. */
export const TIMED_OUT = 124;
const MAX_STDIN_BYTES = 1 << 20;

export interface RunIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Piped input, when there is any. */
  stdin(): Promise<string | undefined>;
}

/** One line of the answer (see src/api/run.ts). */
type Frame =
  | { type: 'started'; env: string; release: number | null; command: string[] }
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'exit'; exitCode: number; timedOut: boolean; durationMs: number }
  | { type: 'error'; code: string; message: string };

export async function run(
  ctx: Ctx,
  cmd: {
    app: string;
    env?: string | undefined;
    command: string[];
    timeoutSeconds?: number | undefined;
  },
  io: RunIo = processIo(),
): Promise<number> {
  const client = ctx.client();
  const stdin = await io.stdin();
  const res = await post(client, appPath(cmd.app, '/run'), {
    env: cmd.env,
    command: cmd.command,
    ...(cmd.timeoutSeconds === undefined ? {} : { timeout: cmd.timeoutSeconds }),
    ...(stdin === undefined ? {} : { stdin }),
  });
  const decoder = new TextDecoder();
  let buffer = '';
  let exit: number | undefined;
  const handle = (f: Frame) => {
    switch (f.type) {
      case 'started':
        if (!ctx.common.json) {
          io.stderr(
            `running ${f.command.join(' ')} in ${cmd.app}/${f.env}${f.release === null ? '' : ` (v${f.release})`}\n`,
          );
        }
        return;
      case 'output':
        if (f.stream === 'stderr') io.stderr(f.data);
        else io.stdout(f.data);
        return;
      case 'exit':
        exit = f.timedOut ? TIMED_OUT : f.exitCode;
        if (f.timedOut)
          io.stderr(
            `gantry: the command timed out after ${(f.durationMs / 1000).toFixed(0)} s and was killed\n`,
          );
        return;
      case 'error':
        io.stderr(`gantry: ${f.code}: ${f.message}\n`);
        exit = EXIT.failed;
        return;
    }
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() !== '') handle(JSON.parse(line) as Frame);
    }
  }
  if (exit === undefined) {
    io.stderr('gantry: the controller ended the answer before the command did\n');
    return EXIT.failed;
  }
  return exit;
}

async function post(client: ClientOptions, path: string, body: unknown): Promise<Response> {
  const headers: Record<string, string> = {
    accept: 'application/x-ndjson',
    'content-type': 'application/json',
  };
  if (client.token) headers.authorization = `Bearer ${client.token}`;
  let res: Response;
  try {
    res = await fetch(`${client.url}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(`cannot reach the controller at ${client.url} (${errorMessage(e)})`, {
      cause: e,
    });
  }
  if (!res.ok || !res.body) throw await apiFailureOf(res);
  return res;
}

/** The real terminal: stdout, stderr, and stdin only when it is a pipe or a file. */
export function processIo(): RunIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    async stdin() {
      if (process.stdin.isTTY) return undefined;
      // A pipe or a file only: /dev/null or a closed terminal would have nothing, or never end.
      const st = (() => {
        try {
          return fstatSync(0);
        } catch {
          return undefined;
        }
      })();
      if (!st || !(st.isFIFO() || st.isFile())) return undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of process.stdin) {
        const b = c as Buffer;
        size += b.length;
        if (size > MAX_STDIN_BYTES) {
          throw new Error(`piped input is limited to ${MAX_STDIN_BYTES} bytes`);
        }
        chunks.push(b);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
