/**
 * Human-written quantities in config files: durations (`500ms`, `2s`, `1m30s`) and memory sizes
 * (`256Mi`, `1Gi`, `512M`). The patterns are exported so the JSON Schema and the parsers share
 * one definition and an editor flags exactly what the controller would reject.
 */

/** One or more `<number><unit>` parts, units ms, s, m, h (`90s`, `1m30s`, `1.5h`). */
export const DURATION_PATTERN = '^(?:[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h))+$';

/**
 * A number with a Kubernetes-style unit: binary `Ki Mi Gi Ti` (powers of 1024) or decimal
 * `k K M G T` (powers of 1000). Kubernetes, not Docker, semantics: Docker's `512m` means MiB, which
 * is exactly the ambiguity this rejects by accepting no lowercase `m` or `g`.
 */
export const MEMORY_PATTERN = '^([0-9]+)(?:\\.([0-9]+))?(Ki|Mi|Gi|Ti|k|K|M|G|T)$';

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const MEMORY_UNITS: Readonly<Record<string, bigint>> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  k: 1000n,
  K: 1000n,
  M: 1000n ** 2n,
  G: 1000n ** 3n,
  T: 1000n ** 4n,
};

const DURATION_RE = new RegExp(DURATION_PATTERN);
const DURATION_PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const MEMORY_RE = new RegExp(MEMORY_PATTERN);

/** Milliseconds in a duration like `500ms`, `2s`, `5m` or `1m30s` (rounded), or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART_RE)) {
    ms += Number(amount) * (DURATION_UNITS_MS[unit ?? ''] ?? Number.NaN);
  }
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

/** Bytes in a memory size like `256Mi`, `1Gi` or `512M` (rounded up), or undefined if it is not one. */
export function parseMemory(text: string): number | undefined {
  const match = MEMORY_RE.exec(text);
  if (!match) return undefined;
  const [, whole = '', fraction = '', unit = ''] = match;
  // Exact decimal arithmetic: in floating point `1.1k` is 1100.0000000000002 bytes and would round up to 1101.
  const scale = 10n ** BigInt(fraction.length);
  const numerator = BigInt(whole + fraction) * (MEMORY_UNITS[unit] ?? 1n);
  // Rounded up like Kubernetes does, so a fractional size never ends below what was asked for.
  const bytes = Number((numerator + scale - 1n) / scale);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
