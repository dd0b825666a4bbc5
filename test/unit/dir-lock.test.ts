import { describe, expect, it } from 'vitest';
import { withExclusive, withShared } from '../../src/source/dir-lock.js';

/** A promise and the function that settles it, to step the lock by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('dir-lock', () => {
  it('runs exclusive holders one at a time, in order', async () => {
    const log: string[] = [];
    const first = gate();
    const a = withExclusive('k1', async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
    });
    const b = withExclusive('k1', async () => {
      log.push('b');
    });
    await Promise.resolve();
    expect(log).toEqual(['a start']);
    first.open();
    await Promise.all([a, b]);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  it('lets readers share, and a waiting writer goes before later readers', async () => {
    const log: string[] = [];
    const r1gate = gate();
    const r1 = withShared('k2', async () => {
      log.push('r1');
      await r1gate.promise;
    });
    const r2 = withShared('k2', async () => {
      log.push('r2');
    });
    const w = withExclusive('k2', async () => {
      log.push('w');
    });
    const r3 = withShared('k2', async () => {
      log.push('r3');
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['r1', 'r2']);
    r1gate.open();
    await Promise.all([r1, r2, w, r3]);
    expect(log).toEqual(['r1', 'r2', 'w', 'r3']);
  });

  it('releases the lock when the holder throws', async () => {
    await expect(withExclusive('k3', () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    await expect(withExclusive('k3', async () => 'next')).resolves.toBe('next');
  });

  it('keeps different keys independent', async () => {
    const g = gate();
    const held = withExclusive('k4', () => g.promise);
    await expect(withExclusive('k5', async () => 'other')).resolves.toBe('other');
    g.open();
    await held;
  });
});
