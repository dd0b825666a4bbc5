/** The zero-downtime bench's output: its table, and notes about outliers. */
import type { MixResult, MixStats } from './mixed-load.js';
import { outliers, samplesOf } from './samples.js';

/** One line of the table. */
export interface Row {
  name: string;
  rolloutMs?: number;
  detectMs?: number;
  /** Every answer of the load window (which starts before the change, and may hold a build). */
  load?: MixStats;
  /** The answers completed during the rollout itself. */
  during?: MixStats;
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** `+1.2` or `-0.4` seconds. */
function offset(ms: number): string {
  return `${ms < 0 ? '-' : '+'}${seconds(Math.abs(ms))}`;
}

/** A line listing the failed and the ≥ 1 s answers, timed from `from` (described by `origin`). */
export function outlierNote(
  name: string,
  load: MixResult,
  from: number,
  origin = "the rollout's start",
): string | undefined {
  const list = [
    ...outliers(samplesOf(load.get), 1_000).map((s) => ['GET', ...s] as const),
    ...(load.post ? outliers(samplesOf(load.post), 1_000).map((s) => ['POST', ...s] as const) : []),
  ].sort((a, b) => a[1] - b[1]);
  if (list.length === 0) return undefined;
  const shown = list
    .slice(0, 12)
    .map(
      ([method, at, latency, status]) =>
        `${method} ${status === 0 ? 'reset/timeout' : status} ${latency < 0 ? '' : `${latency.toFixed(0)} ms `}done at ${offset(at - from)} s`,
    );
  const more = list.length > 12 ? `; … ${list.length - 12} more` : '';
  return `${name}: failed or ≥ 1 s (times from ${origin}): ${shown.join('; ')}${more}`;
}

/** argv as one line a shell would read back the same. */
export function shellJoin(args: readonly string[]): string {
  return args
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** The table of every row, then the failures of the rows that had some, by status. */
export function printTable(rows: readonly Row[], steady: MixStats | undefined): void {
  const header = [
    '',
    'rollout s',
    'detect s',
    'requests',
    'failed GET',
    'failed POST',
    '≥1 s',
    'p99 GET ms',
    'vs steady',
  ];
  const na = 'n/a';
  const lines = rows.map((r) => [
    r.name,
    r.rolloutMs === undefined ? '—' : seconds(r.rolloutMs),
    r.detectMs === undefined ? '—' : seconds(r.detectMs),
    r.load ? String(r.load.get.requests + (r.load.post?.requests ?? 0)) : na,
    r.load ? String(r.load.get.failed) : na,
    r.load?.post ? String(r.load.post.failed) : na,
    r.during ? String(r.during.get.slow + (r.during.post?.slow ?? 0)) : na,
    r.during ? r.during.get.p99.toFixed(0) : na,
    r.during && steady ? `${(r.during.get.p99 / steady.get.p99).toFixed(2)}×` : na,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (l: string[]) =>
    l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  for (const r of rows) {
    const failures = { GET: r.load?.get.failures, POST: r.load?.post?.failures };
    if ((r.load?.get.failed ?? 0) + (r.load?.post?.failed ?? 0) > 0) {
      console.log(
        `  ${r.name}: failures by status (0 = reset/timeout) ${JSON.stringify(failures)}`,
      );
    }
  }
}
