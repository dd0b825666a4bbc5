/**
 * The Docker events stream of one engine, narrowed to Gantry's containers: the reconciler hears
 * within milliseconds that an instance died, was stopped or removed, instead of at its next
 * resync. The stream is re-opened after any cut (an engine restart) with a capped backoff, and a
 * re-opened stream reports `{ all: true }`: events during the cut are lost, so look at everything.
 */
import type Docker from 'dockerode';
import type { RuntimeChange } from '../runtime.js';
import { LABEL } from './labels.js';

const EVENTS = [
  'start',
  'die',
  'stop',
  'kill',
  'destroy',
  'oom',
  'pause',
  'unpause',
  'health_status',
];
const MAX_BACKOFF_MS = 2_000;

/** Follows `docker` until the returned function is called. */
export function followEvents(docker: Docker, onChange: (c: RuntimeChange) => void): () => void {
  let stopped = false;
  let stream: NodeJS.ReadableStream | undefined;
  let timer: NodeJS.Timeout | undefined;
  let backoff = 100;
  let cut = false;

  const open = async (): Promise<void> => {
    if (stopped) return;
    try {
      const s = (await docker.getEvents({
        filters: { type: ['container'], label: [`${LABEL.managed}=true`], event: EVENTS },
      })) as NodeJS.ReadableStream;
      if (stopped) {
        (s as unknown as { destroy?: () => void }).destroy?.();
        return;
      }
      stream = s;
      backoff = 100;
      if (cut) onChange({ all: true });
      cut = false;
      let buffer = '';
      s.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          const change = changeOf(line);
          if (change) onChange(change);
        }
      });
      const reopen = () => {
        if (stream !== s) return;
        stream = undefined;
        retry();
      };
      s.on('end', reopen);
      s.on('close', reopen);
      s.on('error', reopen);
    } catch {
      retry();
    }
  };
  const retry = (): void => {
    if (stopped) return;
    cut = true;
    timer = setTimeout(() => void open(), backoff);
    timer.unref();
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  };
  void open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    const s = stream as unknown as { destroy?: () => void } | undefined;
    stream = undefined;
    s?.destroy?.();
  };
}

/** The app and environment of one event line, when it is one of ours. */
export function changeOf(line: string): RuntimeChange | undefined {
  if (line === '') return undefined;
  try {
    const e = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
    const attrs = e.Actor?.Attributes ?? {};
    const app = attrs[LABEL.app];
    const env = attrs[LABEL.env];
    // One-offs come and go by design; they change nothing the reconciler holds.
    if (attrs[LABEL.managed] !== 'true' || attrs[LABEL.oneOff] !== undefined || !app || !env) {
      return undefined;
    }
    return { all: false, app, env };
  } catch {
    return undefined;
  }
}
