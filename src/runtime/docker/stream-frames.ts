/**
 * The engine's multiplexed stdout/stderr stream (non-TTY attach, exec and logs): frames of an
 * 8-byte header — stream type, three zero bytes, payload length (uint32 BE) — then the payload.
 * Decoded here, purely, so logs and exec output read as text in arrival order.
 */

const HEADER = 8;

function isHeader(buf: Buffer, at: number): boolean {
  const type = buf[at];
  return (
    (type === 0 || type === 1 || type === 2) &&
    buf[at + 1] === 0 &&
    buf[at + 2] === 0 &&
    buf[at + 3] === 0
  );
}

/** Incremental decoder: feed chunks as they arrive, get payloads back; a raw (TTY) stream passes through. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private raw: boolean | undefined;

  push(chunk: Buffer): Buffer[] {
    if (this.raw === true) return [chunk];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.raw === undefined) {
      if (this.pending.length < 4) return [];
      // The first bytes decide: a TTY stream is plain text and never starts like a header.
      this.raw = !isHeader(this.pending, 0);
      if (this.raw) {
        const all = this.pending;
        this.pending = Buffer.alloc(0);
        return [all];
      }
    }
    const out: Buffer[] = [];
    let at = 0;
    while (this.pending.length - at >= HEADER) {
      const size = this.pending.readUInt32BE(at + 4);
      if (this.pending.length - at - HEADER < size) break;
      out.push(this.pending.subarray(at + HEADER, at + HEADER + size));
      at += HEADER + size;
    }
    this.pending = this.pending.subarray(at);
    return out;
  }

  /** What is left when the stream ends: a torn frame's bytes, or a short raw stream. */
  end(): Buffer[] {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    if (rest.length === 0) return [];
    return this.raw === false ? [rest.subarray(Math.min(HEADER, rest.length))] : [rest];
  }
}

/** Decodes a whole multiplexed buffer (e.g. `GET /containers/{id}/logs` without follow) to text. */
export function decodeFrames(buf: Buffer): string {
  const decoder = new FrameDecoder();
  return Buffer.concat([...decoder.push(buf), ...decoder.end()]).toString('utf8');
}

/** Text split into lines without the trailing empty one; `\r\n` endings tolerated. */
export function textLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Keeps the last `maxBytes` of what is appended: exec output is evidence, not an archive. */
export class TailBytes {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Trim in batches, not on every chunk: concatenation is the expensive part.
    if (this.size > this.maxBytes * 2) this.compact();
  }

  toString(): string {
    this.compact();
    return Buffer.concat(this.chunks).toString('utf8');
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const kept = all.length > this.maxBytes ? all.subarray(all.length - this.maxBytes) : all;
    this.chunks = [kept];
    this.size = kept.length;
  }
}
