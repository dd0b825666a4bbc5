import type { Store } from '../store/store.js';

const FLUSH_MS = 200;
const FLUSH_LINES = 50;

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

  line(text: string): void {
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
