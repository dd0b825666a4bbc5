/**
 * What the live progress of a rollout looks like: pure functions from the rollout view and its
 * events to lines, so the rendering is tested without a terminal.
 */
import { exitForOutcome, type ExitCode, EXIT } from './exit.js';
import { clip, duration, healthText, historyKind, short } from './format.js';
import type { RolloutEvent, RolloutView } from './views.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** `rollback hello/production 1a2b3c4→5d6e7f8` */
export function title(r: RolloutView): string {
  const from = r.from ? r.from.sha.slice(0, 7) : '∅';
  return `${historyKind(r)} ${r.app}/${r.env} ${from}→${r.to.sha.slice(0, 7)}`;
}

/** One event as a line: seconds since the rollout began, then the runner's text. */
export function eventLine(e: RolloutEvent, startedAt: number): string {
  return `+${((e.at - startedAt) / 1000).toFixed(1).padStart(6)}s  ${e.text}`;
}

/** The compact status a terminal redraws in place: a headline and one line per instance. */
export function statusLines(r: RolloutView, now: number, tick: number): string[] {
  const spin = SPINNER[tick % SPINNER.length];
  const took = duration(now - Date.parse(r.createdAt));
  const lines = [`${spin} ${title(r)}  ${r.phase}  ${took}`];
  for (const i of r.instances ?? []) {
    const notes = [
      i.health ? healthText(i.health) : (i.runtime ?? 'starting'),
      i.routed ? 'routed' : '',
      i.retiring ? `retiring (${i.retiring})` : '',
    ].filter(Boolean);
    lines.push(`  ${i.slot.padEnd(14)} ${short(i.revision).slice(0, 7)}  ${notes.join(', ')}`);
  }
  return lines.slice(0, 12);
}

/** The status of a rollout that is queued and has no record yet. */
export function queuedLine(id: string, tick: number): string {
  return `${SPINNER[tick % SPINNER.length]} ${id} queued, not started yet`;
}

/** The closing line(s): outcome, how long it took, why; the failing instance's log tail. */
export function outcomeLines(r: RolloutView): string[] {
  const outcome = r.outcome ?? 'unknown';
  const took = r.finishedAt
    ? ` in ${duration(Date.parse(r.finishedAt) - Date.parse(r.createdAt))}`
    : '';
  const mark = outcome === 'succeeded' ? '✔' : outcome === 'superseded' ? '↷' : '✘';
  const what =
    outcome === 'succeeded' ? `${r.app}/${r.env} now runs ${short(r.to.sha)}` : (r.reason ?? '');
  const lines = [
    `${mark} ${historyKind(r)} ${r.id} ${outcome}${took}${what ? `: ${clip(what, 200)}` : ''}`,
  ];
  if (outcome !== 'succeeded' && r.failureLogs && r.failureLogs.lines.length > 0) {
    lines.push(`  last log lines of ${r.failureLogs.slot}:`);
    for (const l of r.failureLogs.lines.slice(-10)) lines.push(`  │ ${l}`);
  }
  return lines;
}

/** The exit code for a finished rollout (see USAGE). */
export function exitCodeFor(r: RolloutView): ExitCode {
  return r.outcome ? exitForOutcome(r.outcome) : EXIT.failed;
}
