/**
 * One conversation with a git remote under a budget: at most `maxPackBytes` received, in at most
 * `fetchTimeoutMs`. Bytes are counted as they stream in, so an oversized pack is cut off at the
 * cap rather than collected whole (isomorphic-git buffers the pack before it writes it).
 */
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import type { GantryError } from '../errors.js';
import { fetchTooSlow, tooLarge, type SourceLimits } from './source-limits.js';

export class FetchBudget {
  private readonly controller = new AbortController();
  private received = 0;
  private failure: GantryError | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Rejects with the limit error once one is hit; raced against every read of a body. */
  private readonly stopped: Promise<never>;
  private stop!: (e: GantryError) => void;

  constructor(
    private readonly base: HttpClient,
    private readonly limits: SourceLimits,
    private readonly url: string,
  ) {
    this.stopped = new Promise<never>((_, reject) => {
      this.stop = reject;
    });
    this.stopped.catch(() => undefined); // only ever observed through a race
    this.timer = setTimeout(
      () => this.fail(fetchTooSlow(this.url, this.limits.fetchTimeoutMs, this.received)),
      this.limits.fetchTimeoutMs,
    );
    this.timer.unref();
  }

  /** The http client isomorphic-git is given for this conversation. */
  readonly http: HttpClient = {
    request: async (req: GitHttpRequest): Promise<GitHttpResponse> => {
      if (this.failure) throw this.failure;
      const res = await this.base.request({
        ...req,
        signal: this.controller.signal,
        // simple-get's `timeout` is an idle timeout on the socket.
        fetchOptions: { ...req.fetchOptions, timeout: this.limits.idleTimeoutMs },
      });
      return res.body === undefined ? res : { ...res, body: this.counted(res.body) };
    },
  };

  /** The limit error that ended the conversation, if one did: what the caller should report. */
  error(): GantryError | undefined {
    return this.failure;
  }

  /** Stops the clock; call once the conversation is over, however it ended. */
  close(): void {
    clearTimeout(this.timer);
  }

  private fail(e: GantryError): void {
    if (this.failure) return;
    this.failure = e;
    this.stop(e);
    // Cuts the socket too: isomorphic-git may not read the rest, and it must not keep arriving.
    this.controller.abort(e);
  }

  private async *counted(
    body: AsyncIterableIterator<Uint8Array>,
  ): AsyncIterableIterator<Uint8Array> {
    const it = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await Promise.race([it.next(), this.stopped]);
        if (next.done) return;
        this.received += next.value.byteLength;
        if (this.received > this.limits.maxPackBytes) {
          this.fail(
            tooLarge(
              `what ${this.url} sent`,
              this.received,
              this.limits.maxPackBytes,
              'source.maxPackSize',
              true,
            ),
          );
          throw this.failure;
        }
        yield next.value;
      }
    } finally {
      // Not awaited: a source cut off mid-stream may never settle its return().
      void it.return?.();
    }
  }
}
