import { describe, expect, it } from 'vitest';
import { pullRequestOf } from '../../src/history/pull-request.js';
import { decodeCursor, encodeCursor, isAfterCursor, summaryOf } from '../../src/history/query.js';
import type { CommitMeta, RolloutRecord } from '../../src/store/records.js';

describe('history cursor', () => {
  it('round-trips and rejects what is not one', () => {
    const c = { score: 1_700_000_000_000, id: 'r-lq2x-1f' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    for (const bad of [
      '',
      'abc',
      '12:x',
      ':r-a-b',
      '1:r-a',
      '1:r-A-b',
      `${'9'.repeat(17)}:r-a-b`,
    ]) {
      expect(() => decodeCursor(bad), bad).toThrow(/not a history cursor/);
    }
  });

  const cursor = { score: 100, id: 'r-b-2' };
  const cases: [string, { score: number; id: string }, boolean][] = [
    ['older score follows', { score: 99, id: 'r-z-9' }, true],
    ['newer score was seen', { score: 101, id: 'r-a-1' }, false],
    ['the cursor itself was seen', { score: 100, id: 'r-b-2' }, false],
    [
      'same score, larger id came before (reverse lexicographic)',
      { score: 100, id: 'r-c-3' },
      false,
    ],
    ['same score, smaller id follows', { score: 100, id: 'r-a-1' }, true],
  ];
  for (const [name, entry, after] of cases) {
    it(name, () => expect(isAfterCursor(entry, cursor)).toBe(after));
  }
  it('everything follows no cursor', () => expect(isAfterCursor(cursor, undefined)).toBe(true));
});

const commit = (message: string, prNumber?: number): CommitMeta => ({
  sha: 'a'.repeat(40),
  message,
  author: { name: 'Ada', email: 'ada@example.com', timestamp: 1_700_000_000 },
  prNumber,
});

describe('pullRequestOf', () => {
  const cases: [string, CommitMeta, ReturnType<typeof pullRequestOf>][] = [
    ['a plain commit names none', commit('Fix the thing'), undefined],
    ['an issue reference is not a PR', commit('Fix the thing, closes #12'), undefined],
    [
      'GitHub merge commit: title from the body',
      commit('Merge pull request #42 from acme/fast\n\nMake it fast'),
      { number: 42, title: 'Make it fast' },
    ],
    [
      'squash merge: title from the subject',
      commit('Make it fast (#42)'),
      { number: 42, title: 'Make it fast' },
    ],
    [
      'GitLab merge commit',
      commit("Merge branch 'fast' into 'main'\n\nMake it fast\n\nSee merge request acme/app!7"),
      { number: 7, title: 'Make it fast' },
    ],
    [
      'a number recorded at sync wins',
      commit('Make it fast (#42)', 43),
      { number: 43, title: 'Make it fast' },
    ],
  ];
  for (const [name, c, want] of cases) it(name, () => expect(pullRequestOf(c)).toEqual(want));

  it('adds the link only when the forge is known', () => {
    expect(pullRequestOf(commit('x (#5)'), (n) => `https://github.com/acme/app/pull/${n}`)).toEqual(
      {
        number: 5,
        title: 'x',
        url: 'https://github.com/acme/app/pull/5',
      },
    );
    expect(pullRequestOf(commit('x (#5)'), () => undefined)).toEqual({ number: 5, title: 'x' });
  });
});

describe('summaryOf', () => {
  const rec = {
    id: 'r-a-1',
    to: { sha: 'b'.repeat(40), image: 'img' },
  } as RolloutRecord;

  it('summarises the commit: first line, author name', () => {
    expect(summaryOf(rec, commit('Subject\n\nBody'))).toMatchObject({
      sha: 'a'.repeat(40),
      message: 'Subject',
      author: 'Ada',
    });
  });
  it('takes the PR recorded on the rollout (with its link) over the message', () => {
    const s = summaryOf(
      { ...rec, pr: { number: 9, title: 'Nine', url: 'https://x/pull/9' } },
      commit('Subject'),
    );
    expect(s).toMatchObject({ prNumber: 9, prTitle: 'Nine', prUrl: 'https://x/pull/9' });
  });
  it('still names the revision when the commit is unknown', () => {
    expect(summaryOf(rec, undefined)).toEqual({ sha: 'b'.repeat(40), message: '', author: '' });
  });
});
