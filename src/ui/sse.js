// Live updates. EventSource cannot send an Authorization header, so the event stream is read with
// fetch() and its Server-Sent Events frames are parsed here. When the stream is unavailable (an
// older controller, a proxy that buffers), pages fall back to polling.

import { authHeaders } from './api.js';

/**
 * Splits SSE text into complete frames; returns them and the unfinished rest. A frame is
 * `{ id, event, data }` (data lines joined by newlines); comment lines (heartbeats) are skipped.
 */
export function parseFrames(buffer) {
  const frames = [];
  const parts = buffer.split(/\r?\n\r?\n/);
  const rest = parts.pop() ?? '';
  for (const part of parts) {
    const frame = { id: null, event: 'message', data: [] };
    for (const line of part.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') frame.data.push(value);
    }
    if (frame.data.length > 0) frames.push({ ...frame, data: frame.data.join('\n') });
  }
  return { frames, rest };
}

/** Reads an SSE response body to its end, handing each complete frame to `onFrame`. */
export async function readFrames(body, onFrame) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const { frames, rest } = parseFrames(buffer + value);
    buffer = rest;
    for (const f of frames) onFrame(f);
  }
}

/** The live indicator in the header: "live", "polling every 2 s" or nothing. */
function indicate(text) {
  const el = document.getElementById('live');
  if (el) el.textContent = text;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * `fn` at most once per burst: `soon()` runs it `ms` after the first call of a burst, and the calls
 * in between add nothing (events come in bursts during a rollout). `cancel()` drops what is due.
 */
export function oncePerBurst(fn, ms) {
  let pending = null;
  return {
    soon: () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        void fn();
      }, ms);
    },
    cancel: () => {
      if (pending) clearTimeout(pending);
    },
  };
}

/**
 * Follows `/api/events` (filtered by `filter`, e.g. `{ app }` or `{ rollout }`) and calls
 * `onEvent(event)` for each; if the stream cannot be opened, calls `poll()` every `pollMs`
 * instead. Returns a function that stops everything.
 */
export function live({ filter = {}, onEvent, poll, pollMs = 2000 }) {
  const ctrl = new AbortController();
  let stopped = false;
  let timer = null;
  let lastId = null;

  const startPolling = () => {
    if (stopped || timer !== null) return;
    indicate(`polling every ${pollMs / 1000} s`);
    timer = setInterval(() => {
      if (!stopped) void poll();
    }, pollMs);
  };

  const stream = async () => {
    let failures = 0;
    while (!stopped) {
      try {
        const q = new URLSearchParams(filter);
        if (lastId) q.set('after', lastId);
        const res = await fetch(`/api/events?${q}`, {
          headers: authHeaders({ accept: 'text/event-stream' }),
          signal: ctrl.signal,
          credentials: 'omit',
        });
        if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
        failures = 0;
        indicate('live');
        // Whatever happened while the stream was closed is fetched once, then the stream carries on.
        void poll();
        await readFrames(res.body, (f) => {
          if (f.id) lastId = f.id;
          try {
            onEvent({ ...JSON.parse(f.data), type: f.event });
          } catch {
            // A frame that is not JSON is not one of ours; skip it.
          }
        });
      } catch (e) {
        if (stopped || e?.name === 'AbortError') return;
        failures += 1;
      }
      if (stopped) return;
      // Twice in a row without a stream: poll instead, rather than hammer a missing endpoint.
      if (failures >= 2) return startPolling();
      indicate('reconnecting…');
      await sleep(1000);
    }
  };

  void stream();
  return () => {
    stopped = true;
    ctrl.abort();
    if (timer !== null) clearInterval(timer);
    indicate('');
  };
}
