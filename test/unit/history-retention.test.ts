import { describe, expect, it } from 'vitest';
import { isForgettable } from '../../src/history/app-retention.js';
import { expiredIds, type IndexEntry } from '../../src/history/retention.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = 1_000 * DAY;

function entries(ages: number[]): IndexEntry[] {
  return ages.map((days, i) => ({ id: `r-${i}`, createdAt: NOW - days * DAY }));
}

describe('expiredIds', () => {
  const cases: {
    name: string;
    ages: number[];
    keepDays: number;
    keepPerEnvironment: number;
    protect?: string[];
    expired: string[];
  }[] = [
    { name: 'nothing to do', ages: [0, 1, 2], keepDays: 90, keepPerEnvironment: 10, expired: [] },
    {
      name: 'beyond the newest N',
      ages: [0, 1, 2, 3, 4],
      keepDays: 90,
      keepPerEnvironment: 2,
      expired: ['r-2', 'r-3', 'r-4'],
    },
    {
      name: 'older than keepDays',
      ages: [0, 10, 100, 200],
      keepDays: 90,
      keepPerEnvironment: 10,
      expired: ['r-2', 'r-3'],
    },
    {
      name: 'exactly keepDays old is kept',
      ages: [90],
      keepDays: 90,
      keepPerEnvironment: 10,
      expired: [],
    },
    {
      name: 'the current rollout survives age and rank',
      ages: [0, 1, 500],
      keepDays: 90,
      keepPerEnvironment: 1,
      protect: ['r-2'],
      expired: ['r-1'],
    },
    {
      name: 'rank counts from the newest whatever the input order',
      ages: [5, 0, 3, 1],
      keepDays: 90,
      keepPerEnvironment: 2,
      expired: ['r-2', 'r-0'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = expiredIds(
        entries(c.ages),
        { keepDays: c.keepDays, keepPerEnvironment: c.keepPerEnvironment },
        NOW,
        new Set(c.protect ?? []),
      );
      expect(got).toEqual(c.expired);
    });
  }
});

describe('isForgettable (removed apps)', () => {
  const DAY_MS = 86_400_000;
  const now = 200 * DAY_MS;
  const old = new Date(now - 100 * DAY_MS).toISOString();
  const recent = new Date(now - 10 * DAY_MS).toISOString();
  it.each([
    ['repo gone, nothing deployed, old', 'gone', old, false, true],
    ['repo still followed', 'app', old, false, false],
    ['an environment still deployed', 'gone', old, true, false],
    ['changed within keepDays', 'gone', recent, false, false],
    ['an unreadable time', 'gone', 'yesterday', false, false],
  ])('%s', (_name, repo, updatedAt, deployed, want) => {
    expect(isForgettable({ repo, updatedAt }, new Set(['app']), deployed, 90, now)).toBe(want);
  });
});
