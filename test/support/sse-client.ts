/** A Server-Sent Events reader over fetch, as the UI reads /api/events (token in a header). */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface SseConnection {
  status: number;
  /** The next frame (comments included), waiting for it to arrive. */
  next(): Promise<SseFrame>;
  /** The next `n` frames that carry data, skipping comments. */
  take(n: number): Promise<SseFrame[]>;
  close(): void;
}

export async function openSse(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<SseConnection> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const next = async (): Promise<SseFrame> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame: SseFrame = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) frame.comment = line.slice(1).trim();
          const m = /^(id|event|data): ?(.*)$/.exec(line);
          if (m) frame[m[1] as 'id' | 'event' | 'data'] = m[2];
        }
        return frame;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('event stream ended');
      buffer += value;
    }
  };
  return {
    status: res.status,
    next,
    async take(n) {
      const out: SseFrame[] = [];
      while (out.length < n) {
        const f = await next();
        if (f.data !== undefined) out.push(f);
      }
      return out;
    },
    close: () => abort.abort(),
  };
}
