/**
 * One container's log as a stream of lines (`docker logs --follow --timestamps`), for live tails.
 * The engine ends the stream when the container stops or is removed.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { FollowLogsOptions, LogLine } from '../runtime.js';
import { logsError } from './container-io.js';
import { FrameDecoder } from './stream-frames.js';

/** `2024-05-01T12:00:00.123456789Z rest` → its time (ms) and the rest. Pure. */
export function stampedLine(text: string): LogLine {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/s.exec(text);
  if (!m) return { line: text };
  const at = Date.parse(m[1]!);
  return Number.isNaN(at) ? { line: text } : { at, line: m[2]! };
}

/** Splits chunks into whole lines; the last partial one waits for its end. */
export class LineSplitter {
  private rest = '';
  push(text: string): string[] {
    const parts = (this.rest + text).split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((l) => l.replace(/\r$/, ''));
  }
  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last === '' ? [] : [last];
  }
}

export async function followLogsOf(
  container: Docker.Container,
  host: string,
  opts: FollowLogsOptions,
): Promise<void> {
  if (opts.signal?.aborted) return;
  const since = opts.sinceMs === undefined ? undefined : Math.floor(opts.sinceMs / 1000);
  let stream: Readable;
  try {
    // dockerode's overloads type `follow` as a literal; the request is the same either way.
    const logs = container.logs as unknown as (o: Record<string, unknown>) => Promise<unknown>;
    const body = await logs.call(container, {
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: opts.follow,
      ...(since === undefined ? { tail: opts.tailLines ?? 100 } : { since }),
    });
    if (Buffer.isBuffer(body) || typeof body === 'string') {
      // Without follow the engine answers with the whole body at once.
      const decoder = new FrameDecoder();
      const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
      const split = new LineSplitter();
      for (const p of [...decoder.push(buf), ...decoder.end()]) {
        for (const l of split.push(p.toString('utf8'))) opts.onLine(stampedLine(l));
      }
      for (const l of split.end()) opts.onLine(stampedLine(l));
      return;
    }
    stream = body as Readable;
  } catch (e) {
    throw logsError(e, container, host);
  }
  const decoder = new FrameDecoder();
  const split = new LineSplitter();
  const onAbort = () => stream.destroy();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        for (const p of decoder.push(chunk)) {
          for (const l of split.push(p.toString('utf8'))) opts.onLine(stampedLine(l));
        }
      });
      const done = () => {
        for (const p of decoder.end()) {
          for (const l of split.push(p.toString('utf8'))) opts.onLine(stampedLine(l));
        }
        for (const l of split.end()) opts.onLine(stampedLine(l));
        resolve();
      };
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', () => resolve());
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
