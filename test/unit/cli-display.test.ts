import { describe, expect, it } from 'vitest';
import { createDisplay } from '../../src/cli/display.js';

/** A stand-in terminal (or pipe) that records what was written. */
function stream(isTTY: boolean) {
  const writes: string[] = [];
  const s = { isTTY, columns: 20, write: (t: string) => (writes.push(t), true) };
  return { s: s as unknown as NodeJS.WriteStream, writes };
}

describe('progress display', () => {
  it('on a pipe: lines once each, no status block, no escape codes', () => {
    const { s, writes } = stream(false);
    const d = createDisplay(s, { TERM: 'xterm' });
    d.status(['working']);
    d.line('+ 1.0s created');
    d.status(['still working']);
    d.done();
    d.line('done');
    expect(writes.join('')).toBe('+ 1.0s created\ndone\n');
    expect(d.live).toBe(false);
  });

  it('on a terminal: the status block is redrawn under the lines and removed at the end', () => {
    const { s, writes } = stream(true);
    const d = createDisplay(s, { TERM: 'xterm' });
    d.status(['a', 'b']);
    d.line('event');
    d.status(['c']);
    d.done();
    d.line('outcome');
    expect(writes.join('')).toBe(
      [
        'a\nb\n',
        '\x1b[2F\x1b[0J', // erase the block
        'event\n',
        'a\nb\n', // and draw it again under the line
        '\x1b[2F\x1b[0J',
        'c\n',
        '\x1b[1F\x1b[0J',
        'outcome\n',
      ].join(''),
    );
  });

  it('cuts status lines to the terminal width so the redraw counts lines right', () => {
    const { s, writes } = stream(true);
    createDisplay(s, { TERM: 'xterm' }).status(['x'.repeat(50)]);
    expect(writes.join('')).toBe(`${'x'.repeat(19)}\n`);
  });
});
