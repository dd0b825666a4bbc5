/** The rollout loop's sleep: ended by a wake, by a wake that came while nobody slept, or by time. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Waker } from '../../src/deploy/waker.js';

describe('Waker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function waited(w: Waker, ms: number, wakeAt?: number): Promise<number> {
    const t0 = Date.now();
    let end = -1;
    void w.wait(ms).then(() => (end = Date.now() - t0));
    if (wakeAt !== undefined) {
      await vi.advanceTimersByTimeAsync(wakeAt);
      w.wake();
    }
    await vi.advanceTimersByTimeAsync(ms);
    return end;
  }

  it.each([
    { name: 'times out with no wake', ms: 200, wakeAt: undefined, ends: 200 },
    { name: 'ends at a wake', ms: 200, wakeAt: 30, ends: 30 },
    { name: 'ends at once on a wake that came before', ms: 200, wakeAt: 'before', ends: 0 },
  ] as const)('$name', async ({ ms, wakeAt, ends }) => {
    const w = new Waker();
    if (wakeAt === 'before') w.wake();
    expect(await waited(w, ms, wakeAt === 'before' ? undefined : wakeAt)).toBe(ends);
  });

  it('keeps one pending wake, used by the next wait only', async () => {
    const w = new Waker();
    w.wake();
    w.wake();
    expect(await waited(w, 100)).toBe(0);
    expect(await waited(w, 100)).toBe(100);
  });
});
