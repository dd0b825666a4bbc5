import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keptDigests, planPrune, type EnvImages } from '../../src/registry/prune-plan.js';

const img = (n: number) => `r:5000/app@sha256:${String(n).padStart(64, '0')}`;
const dig = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const tag = (n: number) => String(n).padStart(12, 'a');
const ok = (n: number) => ({ to: img(n), outcome: 'succeeded' });

describe('keptDigests', () => {
  it.each<[string, EnvImages[], number, number[]]>([
    ['the newest N succeeded', [{ rollouts: [ok(5), ok(4), ok(3), ok(2)] }], 2, [5, 4]],
    ['the same image twice counts once', [{ rollouts: [ok(5), ok(5), ok(4), ok(3)] }], 2, [5, 4]],
    [
      'failed rollouts are no rollback target',
      [{ rollouts: [{ to: img(9), outcome: 'failed' }, ok(4)] }],
      1,
      [4],
    ],
    [
      'the current image however old',
      [{ current: img(1), rollouts: [ok(5), ok(4), ok(1)] }],
      1,
      [5, 1],
    ],
    ['a pinned image', [{ pinned: [img(2)], rollouts: [ok(5)] }], 1, [5, 2]],
    [
      'both ends of a rollout still moving',
      [{ rollouts: [{ to: img(7), from: img(6) }, ok(5)] }],
      1,
      [7, 6, 5],
    ],
    ['every environment', [{ rollouts: [ok(5), ok(4)] }, { rollouts: [ok(3), ok(2)] }], 1, [5, 3]],
  ])('%s', (_name, envs, n, want) => {
    expect([...keptDigests(envs, n)].sort()).toEqual(want.map(dig).sort());
  });
});

describe('planPrune', () => {
  const DAY = 86_400_000;
  const now = 100 * DAY;
  it.each<[string, { t: string; d: number; at?: number }[], number[], number[]]>([
    ['an old tag outside the window goes', [{ t: tag(1), d: 1, at: 0 }], [], [1]],
    ['a kept digest stays', [{ t: tag(1), d: 1, at: 0 }], [1], []],
    ['a young build stays', [{ t: tag(1), d: 1, at: now - 1000 }], [], []],
    ['an unknown build time is old', [{ t: tag(1), d: 1 }], [], [1]],
    ['a tag Gantry did not write keeps its digest', [{ t: 'latest', d: 1, at: 0 }], [], []],
    [
      'a digest two commits share stays while one tag is young',
      [
        { t: tag(1), d: 1, at: 0 },
        { t: tag(2), d: 1, at: now },
      ],
      [],
      [],
    ],
  ])('%s', (_name, tags, kept, want) => {
    const plan = planPrune(
      tags.map((x) => ({ tag: x.t, digest: dig(x.d), builtAt: x.at })),
      new Set(kept.map(dig)),
      now,
      DAY,
    );
    expect(plan.delete.map((d) => d.digest)).toEqual(want.map(dig));
  });

  it('never deletes a kept digest, and keeps or deletes every digest exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ d: fc.nat(20), t: fc.nat(50), at: fc.option(fc.nat(200 * DAY)) })),
        fc.array(fc.nat(20)),
        (tags, kept) => {
          const states = tags.map((x) => ({
            tag: tag(x.t),
            digest: dig(x.d),
            builtAt: x.at ?? undefined,
          }));
          const keep = new Set(kept.map(dig));
          const plan = planPrune(states, keep, now, DAY);
          for (const d of plan.delete) expect(keep.has(d.digest)).toBe(false);
          const all = [...plan.delete, ...plan.keep].map((d) => d.digest).sort();
          expect(all).toEqual([...new Set(states.map((s) => s.digest))].sort());
        },
      ),
    );
  });
});
