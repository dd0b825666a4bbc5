/**
 * Where progress goes. On a terminal, log lines scroll and a small status block stays under
 * them, redrawn in place; anywhere else (a pipe, CI logs) only the lines are printed, once each.
 */
export interface Display {
  /** A line that stays (an event, the outcome). */
  line(text: string): void;
  /** The block redrawn in place; ignored when not on a terminal. */
  status(lines: string[]): void;
  /** Removes the status block, leaving only the lines. */
  done(): void;
  readonly live: boolean;
}

/** A display on `stream`; redraws in place only on a TTY whose TERM is not `dumb`. */
export function createDisplay(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Display {
  const live = Boolean(stream.isTTY) && env.TERM !== 'dumb';
  let shown = 0;
  const clear = () => {
    // Up to the block's first line, then erase to the end of the screen.
    if (shown > 0) stream.write(`\x1b[${shown}F\x1b[0J`);
    shown = 0;
  };
  let last: string[] = [];
  const draw = (lines: string[]) => {
    const width = stream.columns || 100;
    const cut = lines.map((l) =>
      [...l].length > width - 1 ? [...l].slice(0, width - 1).join('') : l,
    );
    stream.write(cut.map((l) => `${l}\n`).join(''));
    shown = cut.length;
  };
  return {
    live,
    line(text) {
      if (!live) return void stream.write(`${text}\n`);
      clear();
      stream.write(`${text}\n`);
      draw(last);
    },
    status(lines) {
      if (!live) return;
      last = lines;
      clear();
      draw(lines);
    },
    done() {
      if (live) clear();
      last = [];
    },
  };
}

/** A display that shows nothing (for --json runs, where stdout carries only the JSON). */
export function silentDisplay(): Display {
  return { live: false, line() {}, status() {}, done() {} };
}
