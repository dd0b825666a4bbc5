/** Talking to a running container: exec with a deadline, and the tail of its logs. */
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { GantryError } from '../../errors.js';
import type { ExecResult } from '../runtime.js';
import { engineError, statusOf } from './docker-errors.js';
import { FrameDecoder, TailBytes, decodeFrames, textLines } from './stream-frames.js';

/** Exec output kept for evidence; a health check that prints megabytes only needs its last words. */
export const EXEC_OUTPUT_MAX_BYTES = 64 * 1024;

/**
 * Runs `argv` in the container and waits for it. Past `timeoutMs` it rejects with
 * GANTRY_ERR_EXEC_TIMEOUT; the engine has no way to kill an exec, so the process may run on.
 */
export async function execIn(
  container: Docker.Container,
  host: string,
  argv: readonly string[],
  timeoutMs: number,
): Promise<ExecResult> {
  let stream: Duplex | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      stream?.destroy();
      reject(
        new GantryError(
          'GANTRY_ERR_EXEC_TIMEOUT',
          `exec ${argv[0] ?? ''} gave no exit within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
  });
  const run = async (): Promise<ExecResult> => {
    const exec = await container.exec({
      Cmd: [...argv],
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
    // Past the deadline nobody waits for this: hang up rather than read on in the background.
    if (timedOut) stream.destroy();
    const output = await readAll(stream);
    if (timedOut) return { exitCode: -1, output };
    return { exitCode: await exitCodeOf(exec), output };
  };
  try {
    return await Promise.race([run(), deadline]);
  } catch (e) {
    if (e instanceof GantryError) throw e;
    throw execError(e, container.id, host);
  } finally {
    clearTimeout(timer);
  }
}

function readAll(stream: Duplex): Promise<string> {
  const decoder = new FrameDecoder();
  const tail = new TailBytes(EXEC_OUTPUT_MAX_BYTES);
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      for (const payload of decoder.push(chunk)) tail.append(payload);
    });
    stream.once('error', reject);
    // A hijacked connection may close without 'end'; either means the process is done writing.
    const done = (): void => {
      for (const payload of decoder.end()) tail.append(payload);
      resolve(tail.toString());
    };
    stream.once('end', done);
    stream.once('close', done);
  });
}

/** The stream can end a moment before the engine records the exit; ask until it has. */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const info = await exec.inspect();
    if (!info.Running && typeof info.ExitCode === 'number') return info.ExitCode;
    if (attempt >= 50) throw new Error('the engine reported no exit code for a finished exec');
    await sleep(20);
  }
}

function execError(e: unknown, id: string, host: string): GantryError {
  const status = statusOf(e);
  if (status === 404)
    return new GantryError('GANTRY_ERR_NOT_FOUND', `instance ${id.slice(0, 12)} is gone`);
  if (status === 409) {
    return new GantryError(
      'GANTRY_ERR_INSTANCE_CONFLICT',
      `instance ${id.slice(0, 12)} is not running`,
    );
  }
  return engineError(e, `exec in ${id.slice(0, 12)}`, host, 'GANTRY_ERR_DOCKER_UNAVAILABLE');
}

/** The last `tailLines` lines of stdout and stderr, oldest first. */
export async function logsOf(
  container: Docker.Container,
  host: string,
  tailLines: number,
): Promise<string[]> {
  if (tailLines <= 0) return [];
  let body: Buffer | string;
  try {
    body = await container.logs({ stdout: true, stderr: true, tail: tailLines, follow: false });
  } catch (e) {
    throw logsError(e, container, host);
  }
  const text = typeof body === 'string' ? body : decodeFrames(body);
  return textLines(text).slice(-tailLines);
}

/** A failed logs request: the instance is gone (404), or the engine could not answer. */
export function logsError(e: unknown, container: Docker.Container, host: string): GantryError {
  if (statusOf(e) === 404) {
    return new GantryError('GANTRY_ERR_NOT_FOUND', `instance ${container.id.slice(0, 12)} is gone`);
  }
  return engineError(
    e,
    `logs of ${container.id.slice(0, 12)}`,
    host,
    'GANTRY_ERR_DOCKER_UNAVAILABLE',
  );
}
