import { describe, expect, it } from 'vitest';
import {
  asOfEvent,
  noticeOf,
  outcomeText,
  planReport,
  rolloutLink,
  type ReportContext,
  type ReportPlan,
} from '../../src/history/report-plan.js';
import type { RolloutRecord } from '../../src/store/records.js';

function rec(over: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    id: 'r-1',
    app: 'hello',
    env: 'production',
    kind: 'deploy',
    trigger: { kind: 'poll' },
    from: null,
    to: { sha: 'abcdef1'.padEnd(40, '0'), image: 'x' },
    createdAt: '2026-11-23T15:00:00Z',
    plan: { steps: [] },
    ...over,
  };
}

describe('what each rollout event reports', () => {
  const table: [string, string, Partial<RolloutRecord>, ReportContext, ReportPlan | null][] = [
    [
      'created: in progress, a deployment, "started"',
      'created',
      {},
      {},
      {
        status: { state: 'in_progress', description: 'deploying abcdef1 to production' },
        deployment: 'start',
        note: false,
        notify: 'started',
      },
    ],
    [
      'created, delivered after the outcome: no status that would undo the final one',
      'created',
      { outcome: 'succeeded' },
      {},
      { note: false, notify: 'started' },
    ],
    [
      'waiting-lock: pending, frozen with the lock reason',
      'waiting-lock',
      {},
      { lockReason: 'release on Monday' },
      {
        status: { state: 'frozen', description: 'deploy frozen: release on Monday' },
        deployment: 'update',
        note: false,
      },
    ],
    [
      'waiting-lock after the lock was lifted: the reason from the event text',
      'waiting-lock',
      {},
      { eventText: 'waiting: production is locked by carol: release freeze (until 2026-12-01)' },
      {
        status: {
          state: 'frozen',
          description: 'deploy frozen: release freeze (until 2026-12-01)',
        },
        deployment: 'update',
        note: false,
      },
    ],
    ['waiting-lock after the end: nothing', 'waiting-lock', { outcome: 'aborted' }, {}, null],
    [
      'superseded while frozen: the pending status is replaced, no note',
      'outcome',
      { outcome: 'superseded', reason: 'superseded by 123', plan: undefined },
      { statusPosted: true },
      {
        status: { state: 'superseded', description: 'superseded: superseded by 123' },
        note: false,
        notify: 'superseded',
      },
    ],
    [
      'superseded before it started: nothing deployed, nothing to the forge or git',
      'outcome',
      { outcome: 'superseded', reason: 'superseded by 123', plan: undefined },
      {},
      { note: false, notify: 'superseded' },
    ],
    ['other kinds: nothing', 'phase-changed', {}, {}, null],
    ['an outcome event without an outcome on record: nothing', 'outcome', {}, {}, null],
  ];
  for (const [name, kind, over, lock, want] of table) {
    it(name, () => expect(planReport(kind, rec(over), lock)).toEqual(want));
  }

  // A rollout that ran to its end: the final status, the deployment finished, a note, a notice.
  const finals: [string, 'succeeded' | 'failed', string, string][] = [
    ['outcome succeeded', 'succeeded', 'done', 'deployed to production'],
    ['outcome failed carries the reason', 'failed', 'web-1 unhealthy', 'failed: web-1 unhealthy'],
  ];
  it.each(finals)(
    '%s: final status, deployment, note, notification',
    (_, outcome, reason, text) => {
      expect(planReport('outcome', rec({ outcome, reason }), {})).toEqual({
        status: { state: outcome, description: text },
        deployment: 'finish',
        note: true,
        notify: outcome,
      });
    },
  );

  // Typed `outcome` lines say how the rollout ended; lines written by older versions carry no
  // data and are decided from the record, as before.
  const typed: [string, Partial<RolloutRecord>, unknown, ReportPlan | null][] = [
    [
      'data decides the outcome and reason, even before the record shows them',
      {},
      { kind: 'outcome', at: 1, outcome: 'failed', reason: 'web-2 unhealthy: exited 137' },
      {
        status: { state: 'failed', description: 'failed: web-2 unhealthy: exited 137' },
        deployment: 'finish',
        note: true,
        notify: 'failed',
      },
    ],
    [
      "data over the record: this event's end, not a later write's",
      { outcome: 'succeeded', reason: 'done' },
      { kind: 'outcome', at: 1, outcome: 'aborted', reason: 'aborted by bob' },
      {
        status: { state: 'aborted', description: 'aborted: aborted by bob' },
        deployment: 'finish',
        note: true,
        notify: 'aborted',
      },
    ],
    [
      'older versions (no data): the record',
      { outcome: 'succeeded', reason: 'done' },
      undefined,
      {
        status: { state: 'succeeded', description: 'deployed to production' },
        deployment: 'finish',
        note: true,
        notify: 'succeeded',
      },
    ],
    [
      'data of another shape: the record',
      { outcome: 'failed', reason: 'from the record' },
      { kind: 'outcome', outcome: 'exploded' },
      {
        status: { state: 'failed', description: 'failed: from the record' },
        deployment: 'finish',
        note: true,
        notify: 'failed',
      },
    ],
    ['no data and no outcome on record: nothing', {}, undefined, null],
  ];
  for (const [name, over, eventData, want] of typed) {
    it(`typed outcome: ${name}`, () =>
      expect(planReport('outcome', rec(over), { eventData })).toEqual(want));
  }

  it('asOfEvent: the notice and the note read the same end as the plan', () => {
    const seen = asOfEvent(rec({ outcome: 'succeeded' }), {
      kind: 'outcome',
      at: 1,
      outcome: 'failed',
      reason: 'progress deadline',
    });
    expect(seen).toMatchObject({ outcome: 'failed', reason: 'progress deadline' });
    expect(noticeOf(seen, 'failed', 'http://g', new Date(0)).rollout).toMatchObject({
      outcome: 'failed',
      reason: 'progress deadline',
    });
    const plain = rec({ outcome: 'succeeded' });
    expect(asOfEvent(plain, undefined)).toBe(plain);
  });

  it('a rollback is worded as one', () => {
    expect(outcomeText(rec({ kind: 'rollback', outcome: 'succeeded' }))).toBe(
      'restored in production',
    );
    const created = planReport('created', rec({ kind: 'rollback' }));
    expect(created?.status?.description).toBe('rolling production back to abcdef1');
  });

  it('links to the rollout page of the UI', () => {
    expect(rolloutLink('https://gantry.example.com/', 'r-1')).toBe(
      'https://gantry.example.com/#/rollouts/r-1',
    );
  });

  it('a notice of a start carries no reason', () => {
    const n = noticeOf(
      rec({ reason: 'x', outcome: undefined }),
      'started',
      'http://g',
      new Date(0),
    );
    expect(n.rollout).not.toHaveProperty('reason');
    expect(n.commit).toBeUndefined();
  });
});
