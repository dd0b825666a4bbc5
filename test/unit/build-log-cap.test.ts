import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, capLine } from '../../src/build/build-log.js';

describe('capLine', () => {
  it.each([
    ['a short line stays', 'step 1/4 : FROM busybox', 100, 'step 1/4 : FROM busybox'],
    ['exactly the cap stays', 'x'.repeat(100), 100, 'x'.repeat(100)],
  ])('%s', (_name, text, max, want) => {
    expect(capLine(text, max)).toBe(want);
  });

  it('marks what it cut, and says how much', () => {
    const out = capLine('y'.repeat(20_000));
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(out).toMatch(/^y+ … \[line truncated: \d+ of 20000 bytes not kept\]$/);
  });

  it('never exceeds the cap, never splits a character, keeps a prefix', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 3000 }),
        fc.integer({ min: 80, max: 2000 }),
        (text, max) => {
          const out = capLine(text, max);
          expect(Buffer.byteLength(out)).toBeLessThanOrEqual(max);
          expect(out.includes('\uFFFD') && !text.includes('\uFFFD')).toBe(false);
          if (out !== text)
            expect(text.startsWith(out.slice(0, out.indexOf(' … [line truncated')))).toBe(true);
        },
      ),
    );
  });
});
