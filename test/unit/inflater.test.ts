import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Inflater } from '../../src/source/inflater.js';

/** zlib streams back to back with bytes between them, as objects sit in a pack. */
function packed(contents: Buffer[]): { src: Buffer; starts: number[] } {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  let at = 0;
  for (const c of contents) {
    const gap = Buffer.from([0x95, 0x0a]); // an entry header's worth of bytes
    parts.push(gap);
    at += gap.length;
    starts.push(at);
    const d = deflateSync(c);
    parts.push(d);
    at += d.length;
  }
  return { src: Buffer.concat(parts), starts };
}

describe('Inflater', () => {
  it('inflates streams one after another with one handle, and finds where each ends', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 5000 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (arrays, transient) => {
          const contents = arrays.map((a) => Buffer.from(a));
          const { src, starts } = packed(contents);
          const inflater = new Inflater();
          try {
            contents.forEach((c, k) => {
              const { framed, end } = inflater.inflate(src, starts[k]!, c.length, 3, transient);
              expect(framed.subarray(3).equals(c)).toBe(true);
              expect(end).toBe((starts[k + 1] ?? src.length + 2) - 2);
            });
          } finally {
            inflater.close();
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses a stream that makes more or fewer bytes than declared, and goes on after it', () => {
    const content = Buffer.from('x'.repeat(1000));
    const { src, starts } = packed([content, content]);
    const inflater = new Inflater();
    expect(() => inflater.inflate(src, starts[0]!, 999)).toThrow(/another size/);
    expect(() => inflater.inflate(src, starts[0]!, 1001)).toThrow(/another size/);
    expect(inflater.inflate(src, starts[1]!, 1000).framed.equals(content)).toBe(true);
    inflater.close();
  });

  it('refuses corrupt and truncated streams, and goes on after them', () => {
    const content = Buffer.from('hello '.repeat(200));
    const { src, starts } = packed([content]);
    const inflater = new Inflater();
    const corrupt = Buffer.from(src);
    const at = starts[0]! + 5;
    corrupt.writeUInt8(corrupt.readUInt8(at) ^ 0xff, at);
    expect(() => inflater.inflate(corrupt, starts[0]!, content.length)).toThrow();
    expect(() =>
      inflater.inflate(src.subarray(0, src.length - 6), starts[0]!, content.length),
    ).toThrow();
    expect(inflater.inflate(src, starts[0]!, content.length).framed.equals(content)).toBe(true);
    inflater.close();
  });
});
