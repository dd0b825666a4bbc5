import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import {
  api,
  apiFailure,
  appPath,
  isUnreachable,
  withQuery,
  type ClientOptions,
} from './client.js';
import type { Display } from './display.js';
import { eventLine, outcomeLines, queuedLine, statusLines } from './progress.js';
import { readEventStream } from './sse.js';
import type { RolloutEvent, RolloutView } from './views.js';

export type { RolloutView } from './views.js';

/** How often to read the rollout when no event stream rings (and as a safety net when one does). */
const POLL_MS = 500;
const SAFETY_POLL_MS = 2_000;
const REDRAW_MS = 120;
/** How long following rides out an unreachable controller before giving up. */
const OUTAGE_MS = 60_000;

/** Resolves `wait()` early when rung; the event stream rings it, a timer bounds it. */
class Doorbell {
  private wake: (() => void) | undefined;
  private rung = false;
  ring(): void {
    this.rung = true;
    this.wake?.();
  }
  async wait(ms: number): Promise<void> {
    if (!this.rung) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.wake = undefined;
    this.rung = false;
  }
}

export interface FollowOptions {
  display: Display;
  /** Poll only (no event stream); tests of the fallback use it. */
  poll?: boolean;
  pollMs?: number;
  /** Give up (throw) after this many ms; default: follow until the rollout ends. */
  timeoutMs?: number;
  /**
   * The id came from an enqueue: its record appears only when a worker starts it (after a
   * deploy freeze, or another rollout of the environment), so "not known" means "wait".
   */
  queued?: boolean;
}

/**
 * Follows one rollout to its outcome, showing its events and (on a terminal) a live status.
 * The event stream (`GET /api/events?rollout=`) is used as a doorbell: each event wakes a read
 * of `GET /api/rollouts/:id?from=N`, whose list is the truth — ordered, nothing missed, nothing
 * twice, even across a reconnect. Without the stream (older controller, a proxy that buffers),
 * the same read runs on a timer.
 */
export async function followRolloutById(
  opts: ClientOptions,
  id: string,
  how: FollowOptions,
): Promise<RolloutView> {
  const { display } = how;
  const bell = new Doorbell();
  const stop = new AbortController();
  // Before the rollout has a record (queued behind a lock or a busy environment) its events
  // (say, 'waiting-lock') can only be read from the stream; they are shown, untimed, when a read
  // confirms there is no record yet, and not again when the record's list holds them.
  const early: RolloutEvent[] = [];
  const seen = new Set<string>();
  const key = (e: RolloutEvent) => `${e.at}|${e.kind}|${e.text}`;
  let view: RolloutView | undefined;
  let streaming = false;
  if (!how.poll) {
    void readEventStream(
      opts,
      withQuery('/api/events', { rollout: id }),
      (frame) => {
        const e = parseEvent(frame.data);
        if (!view && e?.rolloutId === id) early.push(e);
        bell.ring();
      },
      stop.signal,
      () => {
        streaming = true;
      },
    )
      .catch(() => false)
      .finally(() => {
        streaming = false;
      });
  }
  const deadline = how.timeoutMs === undefined ? Infinity : Date.now() + how.timeoutMs;
  let from = 0;
  let tick = 0;
  let outageSince: number | undefined;
  const status = () => (view ? statusLines(view, Date.now(), tick) : [queuedLine(id, tick)]);
  const redraw = display.live
    ? setInterval(() => {
        tick++;
        display.status(status());
      }, REDRAW_MS)
    : undefined;
  try {
    for (;;) {
      let res: RolloutPage | undefined;
      try {
        res = await readRollout(opts, id, from, how.queued ?? false);
        outageSince = undefined;
      } catch (e) {
        // The rollout carries on without us: ride out a controller restart or a proxy blip.
        if (!isPassing(e) || Date.now() - (outageSince ??= Date.now()) > OUTAGE_MS) throw e;
        display.status([`… ${errorMessage(e)}; retrying`]);
        await sleep(how.pollMs ?? POLL_MS);
        continue;
      }
      if (res) {
        view = res.rollout;
        const start = Date.parse(view.createdAt);
        for (const e of res.events) {
          // The outcome event's text is said again, with the duration, by the closing line.
          if (e.kind === 'outcome' || seen.has(key(e))) continue;
          seen.add(key(e));
          display.line(eventLine(e, start));
        }
        from = res.next;
        if (view.outcome) break;
      } else {
        for (const e of early.splice(0)) {
          if (e.kind === 'outcome' || seen.has(key(e))) continue;
          seen.add(key(e));
          display.line(`${' '.repeat(10)}${e.text}`);
        }
      }
      display.status(status());
      if (Date.now() > deadline) throw new Error(`rollout ${id} did not finish in time`);
      await bell.wait(streaming ? SAFETY_POLL_MS : (how.pollMs ?? POLL_MS));
    }
  } finally {
    if (redraw) clearInterval(redraw);
    stop.abort();
    display.done();
  }
  for (const l of outcomeLines(view)) display.line(l);
  return view;
}

/** Errors worth waiting out while following: nothing answered, or a gateway said so. */
function isPassing(e: unknown): boolean {
  const status = apiFailure(e)?.status;
  return isUnreachable(e) || status === 502 || status === 503 || status === 504;
}

type RolloutPage = { rollout: RolloutView; events: RolloutEvent[]; next: number };

/** The rollout from `from` on; undefined while a `queued` one has no record yet. */
async function readRollout(
  opts: ClientOptions,
  id: string,
  from: number,
  queued: boolean,
): Promise<RolloutPage | undefined> {
  try {
    return await api<RolloutPage>(opts, `/api/rollouts/${encodeURIComponent(id)}?from=${from}`);
  } catch (e) {
    if (queued && apiFailure(e)?.status === 404) return undefined;
    throw e;
  }
}

function parseEvent(data: string): (RolloutEvent & { rolloutId?: string }) | undefined {
  try {
    const e = JSON.parse(data) as Partial<RolloutEvent & { rolloutId: string }>;
    return typeof e.text === 'string' && typeof e.at === 'number' && typeof e.kind === 'string'
      ? (e as RolloutEvent & { rolloutId?: string })
      : undefined;
  } catch {
    return undefined;
  }
}

/** Waits for the rollout of `sha` to `env` to appear and returns its id. */
export async function findRollout(
  opts: ClientOptions,
  app: string,
  env: string,
  sha: string,
  how: { timeoutMs?: number; pollMs?: number; after?: string } = {},
): Promise<string> {
  const deadline = Date.now() + (how.timeoutMs ?? 300_000);
  for (;;) {
    const res = await api<{ rollouts: RolloutView[] }>(
      opts,
      withQuery(appPath(app, '/rollouts'), { env }),
    );
    const found = res.rollouts.find(
      (r) => r.to.sha === sha && (!how.after || r.createdAt >= how.after),
    );
    if (found) return found.id;
    if (Date.now() > deadline)
      throw new Error(`no rollout of ${sha.slice(0, 12)} to ${env} appeared`);
    await sleep(how.pollMs ?? 300);
  }
}

/** Waits for the rollout of `sha` to `env` to appear, then prints its events until it ends. */
export async function followRollout(
  opts: ClientOptions,
  app: string,
  env: string,
  sha: string,
  how: { write: (line: string) => void; timeoutMs?: number; pollMs?: number },
): Promise<RolloutView> {
  const id = await findRollout(opts, app, env, sha, how);
  const display: Display = { live: false, line: how.write, status() {}, done() {} };
  return followRolloutById(opts, id, { display, pollMs: how.pollMs, timeoutMs: how.timeoutMs });
}
