import { describe, expect, it } from 'vitest';
import { buildDelay } from '../../src/source/sync.js';

describe('buildDelay (leading-edge debounce)', () => {
  const cases: { name: string; last: number | undefined; now: number; want: number }[] = [
    { name: 'the first push of a branch builds at once', last: undefined, now: 10_000, want: 0 },
    { name: 'a push after a quiet spell builds at once', last: 0, now: 1_500, want: 0 },
    { name: 'a push in a burst waits the debounce', last: 9_000, now: 10_000, want: 1_500 },
    { name: 'a sync that starts at the same moment waits', last: 10_000, now: 10_000, want: 1_500 },
  ];
  it.each(cases)('$name', ({ last, now, want }) => {
    expect(buildDelay(1_500, last, now)).toBe(want);
  });

  it('never waits with the debounce off', () => {
    expect(buildDelay(0, 10_000, 10_000)).toBe(0);
  });
});
