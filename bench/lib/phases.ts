/** Durations by phase over several runs of two sides, printed as medians beside each other. */

/** One run: ms per phase, in the order the phases happened; `total` is end to end. */
export type Phases = Record<string, number>;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median of each phase over `runs`, in first-seen order, `total` last. */
export function medianPhases(runs: readonly Phases[]): [string, number][] {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))].filter((n) => n !== 'total');
  return [...names, 'total'].map((n) => [n, median(runs.map((r) => r[n] ?? 0))]);
}

/** Two columns of `phase  ms` (medians), then the ratio of the totals (a over b). */
export function phaseTable(
  aName: string,
  a: readonly Phases[],
  bName: string,
  b: readonly Phases[],
): string[] {
  const left = medianPhases(a).map(([n, v]) => `${n.padEnd(32)} ${v.toFixed(0).padStart(6)}`);
  const right = medianPhases(b).map(([n, v]) => `${n.padEnd(24)} ${v.toFixed(0).padStart(6)}`);
  const width = 39;
  const lines = [`${`${aName} (ms, median)`.padEnd(width)}   ${bName} (ms, median)`];
  // Totals on one line at the bottom, whatever the number of phases on each side.
  const body = (xs: string[]) => xs.slice(0, -1);
  const rows = Math.max(body(left).length, body(right).length);
  for (let i = 0; i < rows; i++) {
    lines.push(`${(body(left)[i] ?? '').padEnd(width)}   ${body(right)[i] ?? ''}`);
  }
  lines.push(`${left.at(-1)!.padEnd(width)}   ${right.at(-1)!}`);
  const ta = median(a.map((r) => r['total'] ?? 0));
  const tb = median(b.map((r) => r['total'] ?? 0));
  lines.push(`ratio ${aName} / ${bName}: ${(ta / tb).toFixed(2)}×`);
  return lines;
}
