/**
 * The text of Gantry's git notes (`refs/notes/gantry`). Pure. A commit's note is a list of lines,
 * one per rollout that ended with that commit as its target, so `git log --notes=gantry` shows
 * where and when the commit was deployed and how it ended. Notes from two writers are merged by
 * taking the union of their lines: a line is never lost, and the same line is never doubled (a
 * reporter that delivers an outcome twice writes the same line twice).
 */
import type { RolloutRecord, Trigger } from '../store/records.js';

const REASON_MAX = 200;

/** One note line for a finished rollout, e.g. `production: succeeded 2026-… rollout r-1 (…) image sha256:…`. */
export function noteLine(rec: RolloutRecord, now: Date): string {
  const at = isoSeconds(rec.finishedAt ? new Date(rec.finishedAt) : now);
  const outcome = rec.outcome ?? 'unfinished';
  const how = `${kindWord(rec.kind)} by ${triggerText(rec.trigger)}`;
  const image = imageDigest(rec.to.image);
  const parts = [`${rec.env}: ${outcome} ${at} rollout ${rec.id} (${how})`];
  if (image !== undefined) parts.push(`image ${image}`);
  let line = parts.join(' ');
  if (outcome !== 'succeeded' && rec.reason) line += ` — ${oneLine(rec.reason, REASON_MAX)}`;
  return line;
}

/** Who or what started a piece of work, in a few words. */
export function triggerText(t: Trigger): string {
  switch (t.kind) {
    case 'webhook':
      return t.actor ? `${t.actor} (webhook ${t.provider})` : `webhook ${t.provider}`;
    case 'poll':
      return 'poll';
    case 'manual':
      return t.actor;
  }
}

/** The lines of a note, without blanks. */
export function noteLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
}

/** The note with `line` appended, or the same text when it already holds that line. */
export function appendNoteLine(text: string, line: string): string {
  return mergeNoteTexts(text, `${line}\n`);
}

/** The union of two notes' lines: `a`'s in order, then those only `b` has, in `b`'s order. */
export function mergeNoteTexts(a: string, b: string): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of [...noteLines(a), ...noteLines(b)]) {
    if (seen.has(l)) continue;
    seen.add(l);
    out.push(l);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

function kindWord(kind: RolloutRecord['kind']): string {
  return kind === 'auto-rollback' ? 'automatic rollback' : kind;
}

/** `sha256:` and the first 12 hex digits of a pinned image reference's digest. */
function imageDigest(pinned: string): string | undefined {
  const m = /@?(sha256:[0-9a-f]{12})[0-9a-f]*$/.exec(pinned);
  return m?.[1];
}

function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
