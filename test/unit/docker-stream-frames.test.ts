import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  TailBytes,
  decodeFrames,
  textLines,
} from '../../src/runtime/docker/stream-frames.js';

function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('decodeFrames', () => {
  it('interleaves stdout and stderr in arrival order', () => {
    const buf = Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err 1\n'), frame(1, 'out 2\n')]);
    expect(decodeFrames(buf)).toBe('out 1\nerr 1\nout 2\n');
  });

  it('passes a raw (TTY) stream through', () => {
    expect(decodeFrames(Buffer.from('plain text\n'))).toBe('plain text\n');
  });

  it('handles an empty buffer', () => {
    expect(decodeFrames(Buffer.alloc(0))).toBe('');
  });
});

describe('FrameDecoder', () => {
  it('reassembles frames split at every byte, including inside a UTF-8 character', () => {
    const buf = Buffer.concat([frame(1, 'héllo → wörld\n'), frame(2, 'second\n')]);
    const decoder = new FrameDecoder();
    const parts: Buffer[] = [];
    for (let i = 0; i < buf.length; i++) parts.push(...decoder.push(buf.subarray(i, i + 1)));
    parts.push(...decoder.end());
    expect(Buffer.concat(parts).toString('utf8')).toBe('héllo → wörld\nsecond\n');
  });
});

describe('textLines', () => {
  it.each([
    { text: '', want: [] },
    { text: 'a\n', want: ['a'] },
    { text: 'a\r\nb', want: ['a', 'b'] },
    { text: 'a\n\nb\n', want: ['a', '', 'b'] },
  ])('$text', ({ text, want }) => {
    expect(textLines(text)).toEqual(want);
  });
});

describe('TailBytes', () => {
  it('keeps only the last bytes', () => {
    const tail = new TailBytes(10);
    for (let i = 0; i < 100; i++) tail.append(Buffer.from(`${i % 10}`));
    expect(tail.toString()).toBe('0123456789');
    const short = new TailBytes(10);
    short.append(Buffer.from('abc'));
    expect(short.toString()).toBe('abc');
  });
});
