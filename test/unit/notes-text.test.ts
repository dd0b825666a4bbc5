import { describe, expect, it } from 'vitest';
import {
  appendNoteLine,
  mergeNoteTexts,
  noteLine,
  noteLines,
  triggerText,
} from '../../src/history/note-text.js';
import type { RolloutRecord } from '../../src/store/records.js';

const DIGEST = `sha256:${'ab12'.repeat(16)}`;

function rec(over: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    id: 'r-0001',
    app: 'hello',
    env: 'production',
    kind: 'deploy',
    trigger: { kind: 'webhook', provider: 'github', deliveryId: 'd1' },
    from: null,
    to: { sha: 'c'.repeat(40), image: `127.0.0.1:5000/hello@${DIGEST}` },
    createdAt: '2026-11-23T15:00:00.000Z',
    finishedAt: '2026-11-23T15:04:05.678Z',
    outcome: 'succeeded',
    ...over,
  };
}

describe('note lines', () => {
  const table: [string, Partial<RolloutRecord>, string][] = [
    [
      'a succeeded deploy by webhook',
      {},
      'production: succeeded 2026-11-23T15:04:05Z rollout r-0001 (deploy by webhook github) image sha256:ab12ab12ab12',
    ],
    [
      'a failed one carries its reason, on one line',
      { outcome: 'failed', reason: 'instance web-1 unhealthy:\n  GET / → 500' },
      'production: failed 2026-11-23T15:04:05Z rollout r-0001 (deploy by webhook github) image sha256:ab12ab12ab12 — instance web-1 unhealthy: GET / → 500',
    ],
    [
      'a manual rollback',
      { kind: 'rollback', trigger: { kind: 'manual', actor: 'alice' }, env: 'staging' },
      'staging: succeeded 2026-11-23T15:04:05Z rollout r-0001 (rollback by alice) image sha256:ab12ab12ab12',
    ],
    [
      'an automatic rollback by poll',
      {
        kind: 'auto-rollback',
        trigger: { kind: 'poll' },
        outcome: 'aborted',
        reason: 'aborted by bob',
      },
      'production: aborted 2026-11-23T15:04:05Z rollout r-0001 (automatic rollback by poll) image sha256:ab12ab12ab12 — aborted by bob',
    ],
    [
      'an image reference without a digest is left out',
      { to: { sha: 'c'.repeat(40), image: 'hello:latest' } },
      'production: succeeded 2026-11-23T15:04:05Z rollout r-0001 (deploy by webhook github)',
    ],
  ];
  for (const [name, over, want] of table) {
    it(name, () => expect(noteLine(rec(over), new Date(0))).toBe(want));
  }

  it('uses now when the record has no finish time', () => {
    const line = noteLine(rec({ finishedAt: undefined }), new Date('2026-01-02T03:04:05.999Z'));
    expect(line).toContain(' 2026-01-02T03:04:05Z ');
  });

  it('cuts a long reason', () => {
    const line = noteLine(rec({ outcome: 'failed', reason: 'x'.repeat(1000) }), new Date(0));
    expect(line.length).toBeLessThan(400);
    expect(line.endsWith('…')).toBe(true);
  });

  it('names who triggered', () => {
    expect(
      triggerText({ kind: 'webhook', provider: 'gitlab', deliveryId: 'x', actor: 'eve' }),
    ).toBe('eve (webhook gitlab)');
  });
});

describe('merging notes', () => {
  const table: [string, string, string, string][] = [
    ['empty + line', '', 'a\n', 'a\n'],
    ['disjoint lines keep both, ours first', 'a\nb\n', 'c\n', 'a\nb\nc\n'],
    ['shared lines are not doubled', 'a\nb\n', 'b\nc\n', 'a\nb\nc\n'],
    ['blank lines and trailing spaces do not count', 'a  \n\n', '\na\n', 'a\n'],
    ['both empty', '', '', ''],
  ];
  for (const [name, a, b, want] of table) {
    it(name, () => expect(mergeNoteTexts(a, b)).toBe(want));
  }

  it('is a union: nothing from either side is lost, whatever the order', () => {
    const a = 'x\ny\n';
    const b = 'z\ny\nw\n';
    expect(new Set(noteLines(mergeNoteTexts(a, b)))).toEqual(
      new Set(noteLines(mergeNoteTexts(b, a))),
    );
    expect(new Set(noteLines(mergeNoteTexts(a, b)))).toEqual(new Set(['x', 'y', 'z', 'w']));
  });

  it('appending a line twice keeps one', () => {
    expect(appendNoteLine(appendNoteLine('', 'l1'), 'l1')).toBe('l1\n');
    expect(appendNoteLine('l1\n', 'l2')).toBe('l1\nl2\n');
  });
});
