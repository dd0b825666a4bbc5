/**
 * `GET /api/apps/:app/logs?follow=1|since=…` as Server-Sent Events: every instance's lines, each
 * with its environment and slot, for as long as the client listens (with `follow`); instances a
 * rollout starts join (`joined`), those it stops leave (`left`). Secret values are redacted here,
 * before a line leaves the controller.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { followAppLogs, type LiveLogEvent } from '../deploy/live-logs.js';
import { parseDuration } from '../config/units.js';
import { GantryError } from '../errors.js';
import type { ConfigStore } from '../release/config-store.js';
import { noRedaction, secretRedactor, type Redact } from '../release/redact-secrets.js';
import type { ReleaseStore } from '../release/releases.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RolloutStore } from '../store/rollouts.js';
import { openSse } from './sse.js';

export interface LogStreamDeps {
  rollouts: RolloutStore;
  releases: ReleaseStore;
  appConfig: ConfigStore;
  sseHeartbeatMs: number;
}

/** `10m`, `90s`, `2h` before `now`, or an ISO time; undefined when absent. */
export function sinceTime(since: string | undefined, now: number): number | undefined {
  if (since === undefined || since === '') return undefined;
  const ms = parseDuration(since);
  if (ms !== undefined) return now - ms;
  const at = Date.parse(since);
  if (Number.isNaN(at)) {
    throw new GantryError(
      'GANTRY_ERR_BAD_REQUEST',
      `since must be a duration (10m, 2h) or a time (2026-01-31T18:00Z), not "${since}"`,
    );
  }
  return at;
}

/** One event as an SSE frame (`event: line|joined|left`). Pure. */
export function logFrame(e: LiveLogEvent): string {
  const { kind, ...data } = e;
  return `event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Streams the app's logs to the request's socket until the client goes away (or, without follow, the end). */
export async function streamLogs(
  deps: LogStreamDeps & { runtime: Runtime },
  req: FastifyRequest,
  reply: FastifyReply,
  q: {
    app: string;
    env?: string | undefined;
    since?: number | undefined;
    lines?: number | undefined;
    follow: boolean;
    /** The environments the token may see; lines of others are never sent. */
    sees?: ((env: string) => boolean) | undefined;
  },
): Promise<void> {
  const stop = new AbortController();
  const res = openSse(reply);
  res.on('close', () => stop.abort());
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), deps.sseHeartbeatMs);
  try {
    await followAppLogs(
      { runtime: deps.runtime, redactFor: redactions(deps, q.app) },
      {
        app: q.app,
        env: q.env,
        sinceMs: q.since,
        tailLines: q.lines,
        follow: q.follow,
        signal: stop.signal,
        emit: (e) => {
          if (q.sees && !q.sees(e.env)) return;
          if (!res.writableEnded) res.write(logFrame(e));
        },
      },
    );
    if (!res.writableEnded) res.write('event: end\ndata: {}\n\n');
  } catch (e) {
    req.log.warn({ err: String(e) }, 'log stream ended on an error');
    if (!res.writableEnded) {
      res.write(`event: error\ndata: ${JSON.stringify({ message: String(e) })}\n\n`);
    }
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
}

/**
 * The redaction for an instance: the secret values of the release it runs and of the
 * environment's current release (opened once per stream and release).
 */
function redactions(
  deps: LogStreamDeps,
  app: string,
): (env: string, release: number | null | undefined) => Promise<Redact> {
  const opened = new Map<string, Promise<string[]>>();
  const valuesOf = (env: string, version: number): Promise<string[]> => {
    const key = `${env}\n${version}`;
    let p = opened.get(key);
    if (!p) {
      p = (async () => {
        const rel = await deps.releases.get(app, env, version);
        if (!rel) return [];
        return Object.values(await deps.appConfig.open(app, env, rel.config.secrets));
      })();
      opened.set(key, p);
    }
    return p;
  };
  return async (env, release) => {
    const current = (await deps.rollouts.env(app, env)).current?.release;
    const versions = [...new Set([release, current])].filter(
      (v): v is number => typeof v === 'number',
    );
    const values = (await Promise.all(versions.map((v) => valuesOf(env, v)))).flat();
    return values.length === 0 ? noRedaction : secretRedactor(values);
  };
}
