import { describe, expect, it } from 'vitest';
import {
  chooseRollbackTarget,
  parseUntil,
  pinAfterFinish,
  pinBlocks,
  selectEnv,
  type HoldInput,
  type PinInput,
  type RollbackInput,
} from '../../src/deploy/operations/choices.js';
import { isGantryError } from '../../src/errors.js';
import type { EnvPin, RolloutRecord } from '../../src/store/records.js';
import { activeLock } from '../../src/store/rollouts.js';

const sha = (c: string) => c.repeat(40);
const [A, B, C, D] = ['a', 'b', 'c', 'd'].map(sha) as [string, string, string, string];

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return isGantryError(e) ? e.code : 'not a GantryError';
  }
}

describe('selectEnv', () => {
  const cases: [string, string[], string | undefined, string][] = [
    ['the only environment when none is named', ['production'], undefined, 'production'],
    ['the named one', ['production', 'staging'], 'staging', 'staging'],
    [
      '400 when several and none named',
      ['production', 'staging'],
      undefined,
      'GANTRY_ERR_ENV_REQUIRED',
    ],
    ['404 when the named one is unknown', ['production'], 'qa', 'GANTRY_ERR_ENV_UNKNOWN'],
    ['400 when the app has none', [], undefined, 'GANTRY_ERR_ENV_REQUIRED'],
  ];
  for (const [name, envs, env, want] of cases) {
    it(name, () => {
      const got = code(() => selectEnv(envs, env)) ?? selectEnv(envs, env);
      expect(got).toBe(want);
    });
  }
  it('lists the environments in the error', () => {
    expect(() => selectEnv(['staging', 'production'], undefined)).toThrow(/production, staging/);
  });
});

type Rec = RollbackInput['records'][number];
const rec = (id: string, s: string, outcome: Rec['outcome']): Rec => ({
  id,
  outcome,
  to: { sha: s, image: `img@${s.slice(0, 4)}` },
});

/** chooseRollbackTarget's input: `records` newest first; what runs is the newest that succeeded. */
function history(records: Rec[], more: Partial<RollbackInput> = {}): RollbackInput {
  const running = records.find((r) => r.outcome === 'succeeded');
  return {
    records,
    current: running ? { sha: running.to.sha, rolloutId: running.id } : null,
    excluded: [],
    ...more,
  };
}

describe('chooseRollbackTarget', () => {
  // newest first: C deployed (current), B, A
  const linear = [rec('r3', C, 'succeeded'), rec('r2', B, 'succeeded'), rec('r1', A, 'succeeded')];
  // After rolling back from C to B: B runs, C is excluded.
  const rolledBack = [rec('r4', B, 'succeeded'), ...linear];
  const cases: [string, RollbackInput, string][] = [
    ['the previous succeeded revision', history(linear), B],
    [
      'skips failed and aborted rollouts',
      history([
        rec('r5', D, 'failed'),
        rec('r4', C, 'succeeded'),
        rec('r3', B, 'aborted'),
        rec('r2', B, 'failed'),
        rec('r1', A, 'succeeded'),
      ]),
      A,
    ],
    [
      'after a rollback, the one before (not the revision rolled back from)',
      history(rolledBack, { excluded: [C] }),
      A,
    ],
    [
      'skips an earlier deploy of the current revision',
      history([
        rec('r4', B, 'succeeded'),
        rec('r3', A, 'succeeded'),
        rec('r2', B, 'succeeded'),
        rec('r1', C, 'succeeded'),
      ]),
      A,
    ],
    ['an explicit target by abbreviated sha', history(linear, { to: 'aaaaaaa' }), A],
    [
      'an explicit target may be one a rollback excluded (a person asked)',
      history(rolledBack, { excluded: [C], to: C }),
      C,
    ],
    ['nothing running', history([]), 'GANTRY_ERR_NO_ROLLBACK_TARGET'],
    [
      'only one revision ever ran',
      history([rec('r1', A, 'succeeded')]),
      'GANTRY_ERR_NO_ROLLBACK_TARGET',
    ],
    [
      'a target that never succeeded here',
      history([rec('r2', B, 'failed'), ...linear.slice(2)], { to: B }),
      'GANTRY_ERR_ROLLBACK_TARGET_INVALID',
    ],
    [
      'the current revision as target',
      history(linear, { to: 'cccc' }),
      'GANTRY_ERR_ROLLBACK_TARGET_INVALID',
    ],
    ['not a commit id', history(linear, { to: 'main' }), 'GANTRY_ERR_ROLLBACK_TARGET_INVALID'],
  ];
  it.each(cases)('%s', (_name, input, want) => {
    const got = chooseRollbackTarget(input);
    expect(got.ok ? got.sha : got.code).toBe(want);
  });
  it('returns the recorded image of the target', () => {
    expect(chooseRollbackTarget(history(linear))).toMatchObject({
      ok: true,
      image: `img@${B.slice(0, 4)}`,
      rolloutId: 'r2',
    });
  });
});

describe('lock expiry', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');
  const base = { reason: 'release', by: 'ada', at: '2030-01-01T11:00:00Z' };
  const cases: [string, string | undefined, boolean][] = [
    ['no expiry holds', undefined, true],
    ['future expiry holds', '2030-01-01T12:00:01Z', true],
    ['expired is no lock', '2030-01-01T11:59:59Z', false],
    ['expiring exactly now is no lock', '2030-01-01T12:00:00Z', false],
  ];
  for (const [name, until, held] of cases) {
    it(name, () => {
      const lock = until ? { ...base, until } : base;
      expect(activeLock(lock, now) !== null).toBe(held);
    });
  }
  it('no lock is no lock', () => expect(activeLock(null, now)).toBeNull());

  const parse: [string, string][] = [
    ['2h', '2030-01-01T14:00:00.000Z'],
    ['90m', '2030-01-01T13:30:00.000Z'],
    ['1d12h', '2030-01-03T00:00:00.000Z'],
    ['45s', '2030-01-01T12:00:45.000Z'],
    ['2030-02-01T00:00:00Z', '2030-02-01T00:00:00.000Z'],
  ];
  for (const [input, want] of parse) {
    it(`until ${input}`, () => expect(parseUntil(input, now)).toBe(want));
  }
  for (const bad of ['soon', '2h ago', '-1h', '2029-12-31T00:00:00Z', '0m', '']) {
    it(`refuses until ${JSON.stringify(bad)}`, () =>
      expect(code(() => parseUntil(bad, now))).toBe('GANTRY_ERR_LOCK_UNTIL_INVALID'));
  }
});

describe('pins', () => {
  const manual = { kind: 'manual' as const, actor: 'ada', via: 'rollback' as const };
  const rollout = (
    kind: RolloutRecord['kind'],
    from: string | null,
    to: string,
  ): PinInput['rollout'] => ({
    id: 'r9',
    kind,
    trigger: kind === 'deploy' ? { kind: 'poll' } : manual,
    from: from ? { sha: from, image: 'x' } : null,
    to: { sha: to, image: 'y' },
  });
  const pin = (s: string, excluded: string[]): EnvPin => ({
    sha: s,
    reason: 'r',
    by: 'ada',
    at: 't',
    rolloutId: 'r1',
    excluded,
  });
  const base = { restored: false, pin: null, removed: [], now: 'now' } as const;

  it('a manual rollback pins the target and excludes what it removed, with who asked', () => {
    const got = pinAfterFinish({
      ...base,
      rollout: rollout('rollback', C, A),
      outcome: 'succeeded',
      removed: [C, B],
    });
    expect(got).toEqual({
      kind: 'set',
      pin: {
        sha: A,
        reason: `rolled back from ${C.slice(0, 12)} by ada`,
        by: 'ada',
        at: 'now',
        rolloutId: 'r9',
        excluded: [C, B],
      },
    });
  });
  it('a second rollback keeps what the first excluded', () => {
    const got = pinAfterFinish({
      ...base,
      rollout: rollout('rollback', B, A),
      outcome: 'succeeded',
      removed: [B],
      pin: pin(B, [C]),
    });
    expect(got.kind === 'set' && got.pin.excluded).toEqual([B, C]);
  });
  it('a failed deploy rolled back automatically pins the restored revision, excluding the failed one', () => {
    const got = pinAfterFinish({
      ...base,
      rollout: rollout('deploy', B, C),
      outcome: 'failed',
      restored: true,
      failureDetail: 'unhealthy',
    });
    expect(got).toMatchObject({ kind: 'set', pin: { sha: B, by: 'gantry', excluded: [C] } });
    expect(got.kind === 'set' && got.pin.reason).toContain('unhealthy');
  });
  const keeps: [string, PinInput][] = [
    [
      'a failed first deploy (nothing restored)',
      { ...base, rollout: rollout('deploy', null, C), outcome: 'failed', restored: true },
    ],
    ['an unrestored failure', { ...base, rollout: rollout('deploy', B, C), outcome: 'failed' }],
    [
      'an aborted deploy',
      {
        ...base,
        rollout: rollout('deploy', B, C),
        outcome: 'aborted',
        restored: true,
        pin: pin(B, [C]),
      },
    ],
    [
      'a superseded deploy',
      { ...base, rollout: rollout('deploy', B, D), outcome: 'superseded', pin: pin(B, [C]) },
    ],
    [
      'a deploy of the pinned revision itself',
      { ...base, rollout: rollout('deploy', B, B), outcome: 'succeeded', pin: pin(B, [C]) },
    ],
    [
      'a deploy when nothing is pinned',
      { ...base, rollout: rollout('deploy', B, D), outcome: 'succeeded' },
    ],
  ];
  for (const [name, input] of keeps)
    it(`keeps the pin as it is after ${name}`, () =>
      expect(pinAfterFinish(input)).toEqual({ kind: 'keep' }));
  it('a newer revision deployed successfully clears the pin', () => {
    expect(
      pinAfterFinish({
        ...base,
        rollout: rollout('deploy', B, D),
        outcome: 'succeeded',
        pin: pin(B, [C]),
      }),
    ).toEqual({ kind: 'clear' });
  });

  it('a manual rollback notes when it was asked; an automatic one keeps an earlier note', () => {
    const asked = '2030-01-01T10:00:00.000Z';
    const manualPin = pinAfterFinish({
      ...base,
      rollout: rollout('rollback', C, A),
      outcome: 'succeeded',
      removed: [C],
      askedAt: asked,
    });
    expect(manualPin.kind === 'set' && manualPin.pin.askedAt).toBe(asked);
    const auto = pinAfterFinish({
      ...base,
      rollout: rollout('deploy', A, D),
      outcome: 'failed',
      restored: true,
      pin: { ...pin(A, [C]), askedAt: asked },
    });
    expect(auto.kind === 'set' && auto.pin).toMatchObject({ excluded: [D, C], askedAt: asked });
    const fresh = pinAfterFinish({
      ...base,
      rollout: rollout('deploy', B, D),
      outcome: 'failed',
      restored: true,
      askedAt: asked,
    });
    expect(fresh.kind === 'set' && 'askedAt' in fresh.pin).toBe(false);
  });
});

describe('pinBlocks: a rollback is final until a newer push', () => {
  const asked = '2030-01-01T10:00:00.000Z';
  const before = '2030-01-01T09:59:59.000Z';
  const after = '2030-01-01T10:00:01.000Z';
  const pinned = (over: Partial<EnvPin> = {}): EnvPin => ({
    sha: A,
    reason: `rolled back from ${B.slice(0, 12)} by ada`,
    by: 'ada',
    at: '2030-01-01T10:00:05.000Z',
    rolloutId: 'r1',
    excluded: [B],
    askedAt: asked,
    ...over,
  });
  const pending = { rolloutId: 'r2', sha: A, by: 'ada', at: asked };
  const none = { pin: null, pendingRollback: null };
  // [name, input, held? (a fragment of the reason), or undefined when automation may deploy]
  const cases: [string, HoldInput, string | undefined][] = [
    ['nothing pinned, no rollback asked', { ...none, sha: C, firstSeenAt: before }, undefined],
    [
      'the commit the rollback took out, seen long before',
      { ...none, pin: pinned(), sha: B, firstSeenAt: before },
      'was taken out of production',
    ],
    [
      'the commit the rollback took out, whatever its time (a late redelivery)',
      { ...none, pin: pinned(), sha: B, firstSeenAt: after },
      'was taken out of production',
    ],
    [
      'a commit pushed before the rollback (building while it ran)',
      { ...none, pin: pinned(), sha: C, firstSeenAt: before },
      'was pushed before the rollback to',
    ],
    [
      'a commit pushed after the rollback was asked',
      { ...none, pin: pinned(), sha: D, firstSeenAt: after },
      undefined,
    ],
    [
      'the pinned revision itself',
      { ...none, pin: pinned(), sha: A, firstSeenAt: before },
      undefined,
    ],
    [
      'a commit pushed before an automatic rollback (no askedAt: it may be the fix)',
      { ...none, pin: pinned({ askedAt: undefined }), sha: C, firstSeenAt: before },
      undefined,
    ],
    ['a commit whose first sighting is unknown', { ...none, pin: pinned(), sha: C }, undefined],
    [
      'a commit pushed before a rollback still under way (no pin yet)',
      { ...none, pendingRollback: pending, sha: C, firstSeenAt: before },
      'that ada asked at',
    ],
    [
      'a commit pushed after a rollback still under way',
      { ...none, pendingRollback: pending, sha: C, firstSeenAt: after },
      undefined,
    ],
    [
      'the revision a rollback under way goes back to',
      { ...none, pendingRollback: pending, sha: A, firstSeenAt: before },
      undefined,
    ],
    [
      'a commit pushed between an earlier pin and a second rollback under way',
      {
        pin: pinned({ askedAt: '2030-01-01T09:00:00.000Z' }),
        pendingRollback: pending,
        sha: C,
        firstSeenAt: before,
      },
      'that ada asked at',
    ],
  ];
  for (const [name, input, held] of cases)
    it(`${held ? 'holds' : 'lets through'} ${name}`, () => {
      const why = pinBlocks(input);
      if (held === undefined) expect(why).toBeUndefined();
      else {
        expect(why).toContain(held);
        expect(why).toContain(input.sha.slice(0, 12));
      }
    });
});
