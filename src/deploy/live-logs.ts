/**
 * An app's live log tail across its instances: every running instance's log is followed, and the
 * instance list is looked at again every `pollMs`, so instances a rollout starts join the tail and
 * those it stops leave it. Lines are redacted (the secret values of the release each instance
 * runs, and of the environment's current release) before they are handed on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redact } from '../release/redact-secrets.js';
import type { Instance, Runtime } from '../runtime/runtime.js';

export type LiveLogEvent =
  | {
      readonly kind: 'line';
      readonly env: string;
      readonly slot: string;
      readonly revision: string;
      readonly at?: number | undefined;
      readonly line: string;
    }
  | {
      readonly kind: 'joined';
      readonly env: string;
      readonly slot: string;
      readonly revision: string;
    }
  | {
      readonly kind: 'left';
      readonly env: string;
      readonly slot: string;
      readonly revision: string;
    };

export interface LiveLogOptions {
  app: string;
  env?: string | undefined;
  /** Lines since (epoch ms) of the instances running at the start; else their last `tailLines`. */
  sinceMs?: number | undefined;
  tailLines?: number | undefined;
  follow: boolean;
  emit: (e: LiveLogEvent) => void;
  signal: AbortSignal;
  pollMs?: number | undefined;
}

export interface LiveLogDeps {
  runtime: Pick<Runtime, 'list' | 'followLogs'>;
  /** The redaction for an instance of `env` running `release`. */
  redactFor(env: string, release: number | null | undefined): Promise<Redact>;
}

const DEFAULT_POLL_MS = 1000;

/** Follows until `signal` aborts (with `follow`), or until every instance's lines so far were sent. */
export async function followAppLogs(deps: LiveLogDeps, opts: LiveLogOptions): Promise<void> {
  const active = new Map<string, Promise<void>>();
  /** When a followed instance's stream ended: if it runs again (a restart) it is followed from there. */
  const endedAt = new Map<string, number>();
  let first = true;
  while (!opts.signal.aborted) {
    const instances = await deps.runtime.list({ app: opts.app, env: opts.env });
    for (const i of instances) {
      if (active.has(i.id) || !isRunning(i, opts.follow)) continue;
      const since = first ? opts.sinceMs : (endedAt.get(i.id) ?? i.startedAt);
      active.set(
        i.id,
        follow(deps, i, opts, since, first).finally(() => {
          active.delete(i.id);
          endedAt.set(i.id, Date.now());
        }),
      );
    }
    if (!opts.follow) {
      await Promise.all(active.values());
      return;
    }
    first = false;
    await sleep(opts.pollMs ?? DEFAULT_POLL_MS, undefined, { signal: opts.signal }).catch(
      () => undefined,
    );
  }
  await Promise.all(active.values());
}

/** Followed: what runs (a snapshot also shows what stopped, as `gantry logs` always has). */
function isRunning(i: Instance, follow: boolean): boolean {
  return follow ? i.state === 'running' : true;
}

async function follow(
  deps: LiveLogDeps,
  i: Instance,
  opts: LiveLogOptions,
  sinceMs: number | undefined,
  initial: boolean,
): Promise<void> {
  const where = { env: i.env, slot: i.slot, revision: i.revision };
  const redact = await deps.redactFor(i.env, i.release);
  if (opts.follow) opts.emit({ kind: 'joined', ...where });
  try {
    await deps.runtime.followLogs(i, {
      follow: opts.follow,
      sinceMs,
      // A newcomer is followed from its start; one running already shows its last lines.
      tailLines: initial ? opts.tailLines : undefined,
      signal: opts.signal,
      onLine: (l) => opts.emit({ kind: 'line', ...where, at: l.at, line: redact(l.line) }),
    });
  } catch {
    // Gone between the list and the read: it simply leaves the tail.
  }
  if (opts.follow && !opts.signal.aborted) opts.emit({ kind: 'left', ...where });
}
