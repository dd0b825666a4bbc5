/**
 * The pure choices behind the deploy operations: which environment, which revision to roll back
 * to, how long a lock lasts, and what a finished rollout does to the environment's pin.
 * No Redis, no git, no clock of their own: everything comes in as data.
 */
import { GantryError } from '../../errors.js';
import type { EnvPin, RollbackAsked, RolloutRecord, Trigger } from '../../store/records.js';

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
  current: { sha: string; rolloutId: string; release?: number | undefined } | null;
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
  // Another commit, or the same commit with other config (a release before a config change).
  const differs = (r: { to: { sha: string; release?: number | undefined } }) =>
    r.to.sha !== current.sha ||
    (r.to.release !== undefined &&
      current.release !== undefined &&
      r.to.release !== current.release);
  const rec = older.find(
    (r) => r.outcome === 'succeeded' && differs(r) && !input.excluded.includes(r.to.sha),
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
  /** For a person's rollback: when it was asked (commits first seen before then stay held). */
  askedAt?: string | undefined;
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
  // A person's rollback holds what was pushed before it; an automatic one only the failed commit
  // (a commit pushed while it failed may be the fix), but keeps an earlier rollback's hold.
  const askedAt = r.kind === 'rollback' && i.askedAt ? i.askedAt : pin?.askedAt;
  const held = askedAt ? { askedAt } : {};
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
        ...held,
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
        ...held,
      },
    };
  }
  if (i.outcome === 'succeeded' && r.kind === 'deploy' && pin && r.to.sha !== pin.sha) {
    return { kind: 'clear' };
  }
  return { kind: 'keep' };
}

/** What decides whether automation may roll a commit out to an environment. */
export interface HoldInput {
  pin: EnvPin | null;
  /** A rollback asked and not finished yet: it already holds what was pushed before it. */
  pendingRollback: RollbackAsked | null;
  sha: string;
  /**
   * When Gantry first saw the commit (its revision's `firstSeenAt`): "pushed before the rollback"
   * means seen before it was asked. Not the author or commit date, which rebases, cherry-picks and
   * clocks on laptops make say anything. Unknown: held only when excluded.
   */
  firstSeenAt?: string | undefined;
}

/**
 * Why automation must not roll a commit out here, or undefined when it may. A rollback is final
 * until a newer push: held are the commits it took out (`excluded`, also after an automatic
 * rollback), and every commit first seen before a person's rollback was asked — whether its build
 * or rollout was queued, running or waiting then. Deploys a person asks for are never held.
 */
export function pinBlocks(i: HoldInput): string | undefined {
  const { pin, pendingRollback: pending, sha } = i;
  const short = (s: string) => s.slice(0, 12);
  const until = 'until a newer push, a deploy or an unpin';
  if (pin?.excluded.includes(sha)) {
    return `${short(sha)} was taken out of production (${pin.reason}); pinned to ${short(pin.sha)} until a newer commit or an unpin`;
  }
  const seen = i.firstSeenAt === undefined ? NaN : Date.parse(i.firstSeenAt);
  if (Number.isNaN(seen)) return undefined;
  const before = (at: string | undefined) => at !== undefined && seen < Date.parse(at);
  if (pending && pending.sha !== sha && before(pending.at)) {
    return `${short(sha)} was pushed before the rollback to ${short(pending.sha)} that ${pending.by} asked at ${pending.at}; held ${until}`;
  }
  if (pin && pin.sha !== sha && before(pin.askedAt)) {
    return `${short(sha)} was pushed before the rollback to ${short(pin.sha)} (${pin.reason}); pinned to ${short(pin.sha)} ${until}`;
  }
  return undefined;
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
