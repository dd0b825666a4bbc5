/**
 * The lines the rollout runner writes itself, beside the core's events (src/rollout/events.ts):
 * typed, so the history reporter and metrics read `data` instead of parsing the text back.
 */
import type { RolloutOutcome, RolloutEventRecord } from '../store/records.js';
import { formationText } from '../release/formation.js';
import { eventText } from './event-text.js';
import type { RolloutEvent } from '../rollout/index.js';

export type RunnerEvent =
  | {
      readonly kind: 'created';
      readonly at: number;
      readonly rolloutKind: string;
      readonly from: string | null;
      readonly to: string;
      /** The release it moves to, in a line (absent on records from before releases). */
      readonly release?: string | undefined;
      /** A rollout that moves no code (a scale, a restart): what it does instead (absent on older records). */
      readonly operation?: RolloutOperation | undefined;
    }
  | { readonly kind: 'resumed'; readonly at: number }
  /** The runtime (or edge) cannot be reached: the rollout waits, acting on nothing. */
  | {
      readonly kind: 'waiting';
      readonly at: number;
      readonly on: 'runtime';
      readonly detail: string;
    }
  /** It answers again after `waitedMs`: the rollout carries on with its clocks shifted. */
  | {
      readonly kind: 'reachable';
      readonly at: number;
      readonly on: 'runtime';
      readonly waitedMs: number;
    }
  /** The release phase began: its command (secret values redacted) in a one-off container. */
  | {
      readonly kind: 'release-started';
      readonly at: number;
      readonly command: readonly string[];
      readonly timeoutMs: number;
      /** An earlier attempt's container was still there: this one waits for it instead. */
      readonly attached?: boolean | undefined;
    }
  /** One line the release command wrote (redacted); the stored lines are capped. */
  | { readonly kind: 'release-output'; readonly at: number; readonly line: string }
  | {
      readonly kind: 'release-finished';
      readonly at: number;
      readonly exitCode: number;
      readonly timedOut: boolean;
      readonly durationMs: number;
    }
  /** Not run, and why (a rollback; or it already succeeded before this attempt resumed). */
  | { readonly kind: 'release-skipped'; readonly at: number; readonly why: string }
  | {
      readonly kind: 'outcome';
      readonly at: number;
      readonly outcome: RolloutOutcome;
      readonly reason: string;
    };

/**
 * What a scale or restart rollout does, for its first line: a deploy's "X → X" would hide it.
 * `version` is the release it runs (a scale's new one; the running one a restart replaces).
 */
export type RolloutOperation =
  | {
      readonly kind: 'scale';
      readonly formation: Readonly<Record<string, number>>;
      readonly version: number;
    }
  | {
      readonly kind: 'restart';
      /** The process types replaced; empty: every one. */
      readonly processes: readonly string[];
      readonly version?: number | undefined;
    };

function short(sha: string | null): string {
  return sha ? sha.slice(0, 12) : '(nothing)';
}

export function runnerEventText(e: RunnerEvent): string {
  switch (e.kind) {
    case 'created':
      return e.operation
        ? operationText(e.operation, e.to)
        : `${e.rolloutKind} ${short(e.from)} → ${short(e.to)}${e.release ? ` (${e.release})` : ''}`;
    case 'resumed':
      return 'resumed from its persisted state';
    case 'waiting':
      return `waiting: ${e.detail}`;
    case 'reachable':
      return `the ${e.on} answers again after ${(e.waitedMs / 1000).toFixed(1)} s; carrying on`;
    case 'release-started':
      return `release phase: running ${e.command.join(' ')}${e.attached ? ' (already started by an earlier attempt: waiting for it)' : ''}`;
    case 'release-output':
      return `│ ${e.line}`;
    case 'release-finished':
      return e.timedOut
        ? `release phase: timed out after ${(e.durationMs / 1000).toFixed(1)} s; killed`
        : `release phase: exited ${e.exitCode} after ${(e.durationMs / 1000).toFixed(1)} s`;
    case 'release-skipped':
      return `release phase skipped: ${e.why}`;
    case 'outcome':
      return `${e.outcome}: ${e.reason}`;
  }
}

/** "scale web=5, worker=2 of 623c03071d2c (v2)", "restart worker of 623c03071d2c (v4)". */
function operationText(op: RolloutOperation, sha: string): string {
  switch (op.kind) {
    case 'scale':
      return `scale ${formationText(op.formation)} of ${short(sha)} (v${op.version})`;
    case 'restart': {
      const what = op.processes.length > 0 ? op.processes.join(', ') : 'every process';
      return `restart ${what} of ${short(sha)}${op.version === undefined ? '' : ` (v${op.version})`}`;
    }
  }
}

/**
 * What a rollout is waiting for now, from its event lines: the text of its last `waiting` line
 * when no `reachable` line came after it, else null. Derived, so nothing is stored beside it.
 */
export function waitingNow(lines: readonly RolloutEventRecord[]): string | null {
  for (let n = lines.length - 1; n >= 0; n--) {
    const kind = lines[n]?.kind;
    if (kind === 'reachable' || kind === 'outcome') return null;
    if (kind === 'waiting') return lines[n]?.text ?? null;
  }
  return null;
}

/** A runner event as a line of the rollout's event list. */
export function runnerLine(e: RunnerEvent): RolloutEventRecord {
  return { at: e.at, kind: e.kind, text: runnerEventText(e), data: e };
}

/** A core event as a line of the rollout's event list. */
export function coreLine(e: RolloutEvent): RolloutEventRecord {
  return { at: e.at, kind: e.kind, text: eventText(e), data: e };
}
