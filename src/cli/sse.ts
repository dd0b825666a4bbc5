import type { ClientOptions } from './client.js';

/** One Server-Sent Events frame (comments and heartbeats are dropped). */
export interface SseFrame {
  id?: string | undefined;
  event: string;
  data: string;
}

/**
 * Splits what arrived so far into complete frames and the unfinished rest (the text after the
 * last blank line), following the WHATWG event-stream rules the CLI needs. Pure.
 */
export function parseSse(buffer: string): { frames: SseFrame[]; rest: string } {
  const normalized = buffer.replace(/\r\n?/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop() ?? '';
  const frames: SseFrame[] = [];
  for (const block of blocks) {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) frames.push({ id, event, data: data.join('\n') });
  }
  return { frames, rest };
}

/**
 * Opens `GET path` as an event stream and calls `onFrame` for each frame until `signal` aborts or
 * the stream ends. Resolves false at once when the controller has no such stream (404) or
 * refuses it, true when the stream ran and ended.
 */
export async function readEventStream(
  opts: ClientOptions,
  path: string,
  onFrame: (f: SseFrame) => void,
  signal: AbortSignal,
  onOpen: () => void = () => {},
): Promise<boolean> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(`${opts.url}${path}`, { headers, signal });
  } catch {
    return false;
  }
  const type = res.headers.get('content-type') ?? '';
  if (!res.ok || !res.body || !type.startsWith('text/event-stream')) {
    await res.body?.cancel().catch(() => {});
    return false;
  }
  onOpen();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      const { frames, rest } = parseSse(buffer);
      buffer = rest;
      for (const f of frames) onFrame(f);
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  }
  return true;
}
