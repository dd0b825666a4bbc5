import { describe, expect, it } from 'vitest';
import { commitSummary, walkBetween, type ParentsOf } from '../../src/history/changes.js';
import { prTitleFromMessage, prUrlFor } from '../../src/history/pull-request.js';

/** A history as a parents table; commits absent from it are "not at hand" (shallow boundary). */
function history(parents: Record<string, string[]>): ParentsOf {
  return async (sha) => parents[sha] ?? null;
}

describe('walkBetween (git from..to)', () => {
  // a ← b ← c ← d (linear), and a merge: d ← m, x ← m, with x ← b
  const linear = history({ a: [], b: ['a'], c: ['b'], d: ['c'] });
  const merged = history({ a: [], b: ['a'], c: ['b'], d: ['c'], x: ['b'], m: ['d', 'x'] });
  const cases: { name: string; h: ParentsOf; from: string | null; to: string; want: string[] }[] = [
    { name: 'linear forward', h: linear, from: 'b', to: 'd', want: ['d', 'c'] },
    { name: 'same revision', h: linear, from: 'c', to: 'c', want: [] },
    { name: 'backwards (nothing new)', h: linear, from: 'd', to: 'b', want: [] },
    { name: 'first deploy: everything', h: linear, from: null, to: 'c', want: ['c', 'b', 'a'] },
    { name: 'merge brings the side branch', h: merged, from: 'c', to: 'm', want: ['m', 'd', 'x'] },
    {
      name: 'shallow boundary ends the walk',
      h: history({ d: ['c'], c: ['b'] }),
      from: null,
      to: 'd',
      want: ['d', 'c'],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      expect(await walkBetween(c.h, c.from, c.to)).toEqual(c.want);
    });
  }

  it('stops at the limit', async () => {
    expect(await walkBetween(linear, null, 'd', 2)).toEqual(['d', 'c']);
  });
});

describe('PR titles from commit messages', () => {
  const cases: [string, string, string | undefined][] = [
    [
      'github merge',
      'Merge pull request #12 from acme/feature\n\nAdd the feature',
      'Add the feature',
    ],
    ['squash', 'Add the feature (#12)', 'Add the feature'],
    ['gitea merge', "Merge pull request 'Add it' (#7) from acme/x into main", 'Add it'],
    [
      'gitlab merge',
      "Merge branch 'x' into 'main'\n\nAdd it\n\nSee merge request acme/app!3",
      'Add it',
    ],
    ['no PR', 'fix the typo, see #12', undefined],
  ];
  for (const [name, message, want] of cases) {
    it(name, () => expect(prTitleFromMessage(message)).toBe(want));
  }
});

describe('commitSummary', () => {
  it('takes the first line, the author name and the PR', () => {
    const s = commitSummary(
      {
        sha: 'abc',
        message: 'Add the feature (#12)\n\nlong body',
        author: { name: 'Ada', timestamp: 0 },
      },
      prUrlFor('https://github.com/acme/app.git'),
    );
    expect(s).toEqual({
      sha: 'abc',
      message: 'Add the feature (#12)',
      author: 'Ada',
      at: '1970-01-01T00:00:00.000Z',
      prNumber: 12,
      prTitle: 'Add the feature',
      prUrl: 'https://github.com/acme/app/pull/12',
    });
  });

  it('has no PR fields for a plain commit, and no link for an unknown forge', () => {
    const s = commitSummary(
      { sha: 'abc', message: 'plain', author: { name: 'Ada', timestamp: 0 }, prNumber: 4 },
      prUrlFor('http://127.0.0.1:9/app.git'),
    );
    expect(s.prNumber).toBe(4);
    expect(s.prUrl).toBeUndefined();
    expect(
      commitSummary({ sha: 'x', message: 'plain', author: { name: 'A', timestamp: 0 } }).prNumber,
    ).toBeUndefined();
  });
});
