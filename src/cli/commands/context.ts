import type { Common } from '../args.js';
import { clientOptions, type ClientOptions } from '../client.js';
import { createDisplay, silentDisplay, type Display } from '../display.js';

/** What every command gets: flags, where to write, and the API client (resolved on first use). */
export interface Ctx {
  common: Common;
  /** The API client; resolving it may run the config file's tokenCommand, so only when needed. */
  client(): ClientOptions;
  /** stdout, one line (or block) per call. */
  out(text: string): void;
  /** Progress for long work: on a terminal redrawn in place; nothing with --json. */
  display(): Display;
  now(): number;
}

/** The real context: process stdout, the environment and the config file. */
export function processContext(common: Common): Ctx {
  let client: ClientOptions | undefined;
  return {
    common,
    client: () => (client ??= clientOptions(common)),
    out: (text) => void process.stdout.write(`${text}\n`),
    display: () => (common.json ? silentDisplay() : createDisplay(process.stdout)),
    now: () => Date.now(),
  };
}

/** Prints `value` as JSON (for --json). */
export function printJson(ctx: Ctx, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}
