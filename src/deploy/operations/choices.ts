/**
 * The pure choices behind the deploy operations: which environment, which revision to roll back
 * to, how long a lock lasts, and what a finished rollout does to the environment's pin.
 * No Redis, no git, no clock of their own: everything comes in as data.
 */
import { GantryError } from '../../errors.js';
import type { EnvPin, RolloutRecord, Trigger } from '../../store/records.js';

/** The environment an operation is about: `env` when given, else the app's only one. */
export function selectEnv(environments: readonly string[], env: string | undefined): string {
  const list = [...environments].sort().join(', ');
  if (env !== undefined) {
    if (!environments.includes(env)) {
      throw new GantryError(
        'GANTRY_ERR_ENV_UNKNOWN',
        `environment ${env} is not one of this app's: ${list || '(none)'}`,
        { details: { environments: [...environments].sort() } },
      );
    }
    return env;
  }
  if (environments.length === 1) return environments[0]!;
  throw new GantryError(
    'GANTRY_ERR_ENV_REQUIRED',
    environments.length === 0
      ? 'this app has no environments yet'
      : `name the environment: this app has ${environments.length} (${list})`,
    { details: { environments: [...environments].sort() } },
  );
}

/** What a rollback could aim at: the environment's rollouts, newest first, and what serves now. */
export interface RollbackInput {
  records: readonly Pick<RolloutRecord, 'id' | 'outcome' | 'to'>[];
  current: { sha: string; rolloutId: string } | null;
  /** Commits an earlier rollback took out: never the default target. */
  excluded: readonly string[];
  /** The revision asked for (full or abbreviated sha, at least 4 characters). */
  to?: string | undefined;
}

export type RollbackChoice =
  | { ok: true; sha: string; image: string; rolloutId: string }
  | {
      ok: false;
      code: 'GANTRY_ERR_NO_ROLLBACK_TARGET' | 'GANTRY_ERR_ROLLBACK_TARGET_INVALID';
      why: string;
    };

/**
 * The revision to roll back to. By default, the newest revision that succeeded in this
 * environment before the one serving now (skipping what an earlier rollback took out); with
 * `to`, that revision, which must have run here successfully.
 */
export function chooseRollbackTarget(input: RollbackInput): RollbackChoice {
  const { current } = input;
  if (current === null) {
    return { ok: false, code: 'GANTRY_ERR_NO_ROLLBACK_TARGET', why: 'nothing runs here yet' };
  }
  const succeeded = input.records.filter((r) => r.outcome === 'succeeded');
  if (input.to !== undefined) {
    const want = input.to.toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(want)) {
      return {
        ok: false,
        code: 'GANTRY_ERR_ROLLBACK_TARGET_INVALID',
        why: `${input.to} is not a commit id (4 to 64 hex characters)`,
      };
    }
    const shas = [...new Set(succeeded.map((r) => r.to.sha).filter((s) => s.startsWith(want)))];
    if (shas.length > 1) {
      return {
        ok: false,
        code: 'GANTRY_ERR_ROLLBACK_TARGET_INVALID',
        why: `${input.to} is ambiguous: ${shas.map((s) => s.slice(0, 12)).join(', ')}`,
      };
    }
    const sha = shas[0];
    if (sha === undefined) {
      return {
        ok: false,
        code: 'GANTRY_ERR_ROLLBACK_TARGET_INVALID',
        why: `${input.to} never ran successfully in this environment`,
      };
    }
    if (sha === current.sha) {
      return {
        ok: false,
        code: 'GANTRY_ERR_ROLLBACK_TARGET_INVALID',
        why: `${sha.slice(0, 12)} is what runs now`,
      };
    }
    const rec = succeeded.find((r) => r.to.sha === sha)!;
    return { ok: true, sha, image: rec.to.image, rolloutId: rec.id };
  }
  // Only what ran before the current revision arrived: a newer record is the one rolled back from.
  const at = input.records.findIndex((r) => r.id === current.rolloutId);
  const older = at === -1 ? succeeded : input.records.slice(at + 1);
  const rec = older.find(
    (r) =>
      r.outcome === 'succeeded' && r.to.sha !== current.sha && !input.excluded.includes(r.to.sha),
  );
  if (!rec) {
    return {
      ok: false,
      code: 'GANTRY_ERR_NO_ROLLBACK_TARGET',
      why: 'no earlier revision succeeded in this environment',
    };
  }
  return { ok: true, sha: rec.to.sha, image: rec.to.image, rolloutId: rec.id };
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A lock's end: an ISO time, or a duration from `now` like `2h`, `90m`, `1d12h`. Must be in the future. */
export function parseUntil(input: string, now: number): string {
  const text = input.trim();
  let at: number;
  if (/^(\d{1,6}[smhdw])+$/.test(text)) {
    at = now;
    for (const [, n, unit] of text.matchAll(/(\d+)([smhdw])/g)) at += Number(n) * UNIT_MS[unit!]!;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) {
    at = Date.parse(text);
  } else {
    throw new GantryError(
      'GANTRY_ERR_LOCK_UNTIL_INVALID',
      `until ${JSON.stringify(input)}: give an ISO time (2030-01-31T18:00:00Z) or a duration (30m, 2h, 1d)`,
    );
  }
  if (at <= now) {
    throw new GantryError(
      'GANTRY_ERR_LOCK_UNTIL_INVALID',
      `until ${JSON.stringify(input)} is not in the future`,
    );
  }
  return new Date(at).toISOString();
}

/** Who asked for a rollout, in a word. */
export function actorOf(trigger: Trigger): string {
  switch (trigger.kind) {
    case 'manual':
      return trigger.actor;
    case 'webhook':
      return trigger.actor ?? `${trigger.provider} push`;
    case 'poll':
      return 'poller';
  }
}

/** What a finished rollout means for the environment's pin. */
export type PinChange = { kind: 'set'; pin: EnvPin } | { kind: 'clear' } | { kind: 'keep' };

export interface PinInput {
  rollout: Pick<RolloutRecord, 'id' | 'kind' | 'trigger' | 'from' | 'to'>;
  outcome: 'succeeded' | 'failed' | 'aborted' | 'superseded';
  /** The core put the previous revision back (a failed deploy rolled back automatically). */
  restored: boolean;
  failureDetail?: string | undefined;
  pin: EnvPin | null;
  /** For a rollback: the commits it took out of production (from `to` exclusive to `from` inclusive). */
  removed: readonly string[];
  now: string;
}

/**
 * A rollback never fights the next deploy: after a rollback (asked for, or automatic after a
 * failed deploy) the environment stays on the restored revision, and what it took out is
 * excluded from automation; a successful deploy of another revision ends the pin.
 */
export function pinAfterFinish(i: PinInput): PinChange {
  const { rollout: r, pin } = i;
  const short = (s: string) => s.slice(0, 12);
  const carried = pin?.excluded ?? [];
  if (i.outcome === 'succeeded' && (r.kind === 'rollback' || r.kind === 'auto-rollback')) {
    const excluded = unique([...i.removed, ...(r.from ? [r.from.sha] : []), ...carried]).filter(
      (s) => s !== r.to.sha,
    );
    const by = actorOf(r.trigger);
    return {
      kind: 'set',
      pin: {
        sha: r.to.sha,
        reason: `rolled back from ${r.from ? short(r.from.sha) : '(nothing)'} by ${by}`,
        by,
        at: i.now,
        rolloutId: r.id,
        excluded,
      },
    };
  }
  if (i.outcome === 'failed' && i.restored && r.kind === 'deploy' && r.from) {
    const excluded = unique([r.to.sha, ...carried]).filter((s) => s !== r.from!.sha);
    const detail = i.failureDetail ? `: ${i.failureDetail}` : '';
    return {
      kind: 'set',
      pin: {
        sha: r.from.sha,
        reason: `automatic rollback: ${short(r.to.sha)} failed${detail}`,
        by: 'gantry',
        at: i.now,
        rolloutId: r.id,
        excluded,
      },
    };
  }
  if (i.outcome === 'succeeded' && r.kind === 'deploy' && pin && r.to.sha !== pin.sha) {
    return { kind: 'clear' };
  }
  return { kind: 'keep' };
}

/** Why automation must not roll `sha` out here, or undefined when it may. */
export function pinBlocks(pin: EnvPin | null, sha: string): string | undefined {
  if (!pin || !pin.excluded.includes(sha)) return undefined;
  return `${sha.slice(0, 12)} was taken out of production (${pin.reason}); pinned to ${pin.sha.slice(0, 12)} until a newer commit or an unpin`;
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
