/**
 * A command's output as Gantry keeps it: split into lines, every secret value redacted, each line
 * cut to a sane length, the first `keep` lines passed on (as events) and the last `tail` lines kept
 * (as the evidence). A command that prints megabytes costs a bounded amount of Redis.
 */
import type { Redact } from '../release/redact-secrets.js';

const MAX_LINE_CHARS = 2_000;

export class OutputLines {
  private rest = '';
  private passed = 0;
  private dropped = 0;
  private readonly last: string[] = [];

  constructor(
    private readonly redact: Redact,
    private readonly opts: { keep: number; tail: number; onLine: (line: string) => void },
  ) {}

  /** A chunk as it arrived (not necessarily whole lines). */
  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    // A secret could straddle a chunk boundary: only whole lines are redacted and passed on, so a
    // partial line waits, unless it grows past the cap (then it is cut and passed as is).
    if (this.rest.length > MAX_LINE_CHARS * 4) {
      parts.push(this.rest);
      this.rest = '';
    }
    for (const p of parts) this.line(p.replace(/\r$/, ''));
  }

  /** The unfinished last line, at the end of the output. */
  end(): void {
    if (this.rest !== '') this.line(this.rest);
    this.rest = '';
  }

  /** The last lines (redacted), oldest first. */
  tail(): string[] {
    return [...this.last];
  }

  /** Lines not passed on because of the cap. */
  get droppedLines(): number {
    return this.dropped;
  }

  private line(raw: string): void {
    const redacted = this.redact(raw);
    const text =
      redacted.length > MAX_LINE_CHARS ? `${redacted.slice(0, MAX_LINE_CHARS)} …(cut)` : redacted;
    this.last.push(text);
    if (this.last.length > this.opts.tail) this.last.shift();
    if (this.passed < this.opts.keep) {
      this.passed++;
      this.opts.onLine(text);
    } else {
      this.dropped++;
    }
  }
}
