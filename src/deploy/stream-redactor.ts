/**
 * Secret values kept out of a byte stream shown live (`gantry run`'s output): each chunk passes
 * redacted, except a tail that could be the start of a secret, held until the next chunk (or the
 * end) says whether it is one. So a value split across two chunks is still caught.
 */
const MIN_LENGTH = 3;

export class StreamRedactor {
  private held = '';
  private readonly values: string[];

  constructor(values: Iterable<string>) {
    this.values = [...new Set(values)]
      .filter((v) => v.length >= MIN_LENGTH)
      .sort((a, b) => b.length - a.length);
  }

  /** What may be shown of `chunk` now. */
  push(chunk: string): string {
    if (this.values.length === 0) return chunk;
    const text = this.redact(this.held + chunk);
    const keep = this.secretPrefixAtEnd(text);
    this.held = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** The held rest, at the end of the stream. */
  end(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }

  private redact(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  }

  /** The length of the longest end of `text` that begins some secret value (but is not all of it). */
  private secretPrefixAtEnd(text: string): number {
    let best = 0;
    for (const v of this.values) {
      for (let n = Math.min(v.length - 1, text.length); n > best; n--) {
        if (text.endsWith(v.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
