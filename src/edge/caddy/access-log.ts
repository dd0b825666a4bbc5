/**
 * Reading Caddy's JSON access logs: parsing a line (pure) and following a file that Caddy appends
 * to and rolls over (renames, then starts a new file under the same name).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { RouteId, Upstream } from '../edge.js';
import { UPSTREAM_HEADER, UPSTREAM_LOG_FIELD, routeOfLogger } from './names.js';

/** One handled request, as logged by one tier. */
export interface AccessRecord {
  readonly routeId: RouteId;
  /** Epoch ms. */
  readonly at: number;
  readonly status: number;
  /** The upstream that answered (back tier only; absent when Caddy answered itself). */
  readonly upstream?: Upstream;
}

/** The record in one log line, or undefined for lines that are not our access logs. */
export function parseAccessLine(line: string): AccessRecord | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null) return undefined;
  const fields = entry as Record<string, unknown>;
  const { logger, ts, status, resp_headers } = fields;
  if (typeof logger !== 'string' || typeof ts !== 'number' || typeof status !== 'number') {
    return undefined;
  }
  const routeId = routeOfLogger(logger);
  if (routeId === undefined) return undefined;
  const at = Math.round(ts * 1000);
  const logged = fields[UPSTREAM_LOG_FIELD];
  // Lines an older edge wrote name the upstream in a response header.
  const upstream =
    typeof logged === 'string' && logged !== ''
      ? logged
      : headerValue(resp_headers, UPSTREAM_HEADER);
  return upstream === undefined ? { routeId, at, status } : { routeId, at, status, upstream };
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const values = (headers as Record<string, unknown>)[name];
  const first: unknown = Array.isArray(values) ? values[0] : undefined;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/**
 * Follows a log file from its start: each `read()` returns the records appended since the last.
 * Survives rotation (the open handle finishes the renamed file, then the new one is opened) and
 * a file that does not exist yet.
 */
export class LogFollower {
  private handle: FileHandle | undefined;
  private ino = -1;
  private offset = 0;
  private partial = '';
  private decoder = new StringDecoder('utf8');
  private readonly buf = Buffer.alloc(1 << 16);

  constructor(readonly file: string) {}

  async read(): Promise<AccessRecord[]> {
    const records: AccessRecord[] = [];
    if (this.handle === undefined && !(await this.openCurrent())) return records;
    await this.drain(records);
    // Rolled over since we opened it: what the old file still held is read; switch to the new one.
    const now = await stat(this.file).catch(() => undefined);
    if (now !== undefined && now.ino !== this.ino) {
      await this.close();
      if (await this.openCurrent()) await this.drain(records);
    }
    return records;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }

  private async openCurrent(): Promise<boolean> {
    try {
      this.handle = await open(this.file, 'r');
    } catch {
      return false;
    }
    this.ino = (await this.handle.stat()).ino;
    this.offset = 0;
    this.partial = '';
    this.decoder = new StringDecoder('utf8');
    return true;
  }

  private async drain(into: AccessRecord[]): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) return;
    const buf = this.buf;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      // The decoder holds back a character split between two reads.
      const text = this.partial + this.decoder.write(buf.subarray(0, bytesRead));
      const lines = text.split('\n');
      // The last piece has no newline yet: Caddy may be mid-write.
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        // A truncated file reads back as NUL padding before the next line.
        const record = parseAccessLine(line.replace(/^\0+/, ''));
        if (record !== undefined) into.push(record);
      }
    }
  }
}
