import type { Store } from '../store/store.js';

const FLUSH_MS = 200;
const FLUSH_LINES = 50;
/** A stored log line's cap in bytes: a build printing a minified bundle must not fill Redis. */
export const MAX_LINE_BYTES = 8 * 1024;

/**
 * `text` cut to at most `max` bytes of UTF-8 (never inside a character), with a marker saying
 * how much was left out. Pure.
 */
export function capLine(text: string, max = MAX_LINE_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  const marker = (cut: number) => ` … [line truncated: ${cut} of ${bytes.length} bytes not kept]`;
  // The marker counts against the cap too; its length hardly changes with the number in it.
  let end = Math.max(0, max - Buffer.byteLength(marker(bytes.length)));
  // Back off to the start of a character: UTF-8 continuation bytes are 10xxxxxx.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + marker(bytes.length - end);
}

/**
 * Buffers a build's log lines and appends them to Redis in small batches, so readers can follow
 * a running build without a Redis round trip per line. Keeps the tail for failure reports.
 */
export class BuildLog {
  private pending: string[] = [];
  private readonly tailLines: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly buildId: string,
    private readonly keep: number,
    private readonly tailSize = 30,
  ) {}

  line(raw: string): void {
    const text = capLine(raw);
    this.pending.push(text);
    this.tailLines.push(text);
    if (this.tailLines.length > this.tailSize) this.tailLines.shift();
    if (this.pending.length >= FLUSH_LINES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  tail(): string[] {
    return [...this.tailLines];
  }

  /** Writes what is buffered; calls are chained so lines keep their order. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    // A log write that fails (Redis away, controller closing) must not fail the build itself;
    // the tail kept in memory still goes into the failure record.
    this.flushing = this.flushing
      .then(() => this.store.appendBuildLog(this.buildId, batch, this.keep))
      .catch(() => undefined);
    return this.flushing;
  }
}
