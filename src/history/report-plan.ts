/**
 * What the reporters do about one rollout event. Pure: the event's kind and data and the rollout
 * record in, a plan out (a commit status, a GitHub Deployment step, a git note, a notification);
 * the reporter (reporter.ts) carries it out.
 */
import type { RolloutNotifyEvent } from '../config/controller-config.js';
import { outcomeData } from '../events/event-data.js';
import type { RolloutRecord } from '../store/records.js';
import type { ReportState } from './forges/report.js';
import type { RolloutNotice } from './notify.js';
import { triggerText } from './note-text.js';

/** The rollout event kinds the reporters act on. */
export const REPORTED_KINDS = ['created', 'waiting-lock', 'outcome'] as const;

/** What to do for one event. */
export interface ReportPlan {
  /** The commit status `gantry/<env>` to post. */
  status?: { state: ReportState; description: string } | undefined;
  /**
   * GitHub Deployment: `start` creates it (and says in_progress), `update` posts a status on the
   * one created before (if any), `finish` posts the final one (creating it first for a success
   * that was never started, e.g. a redelivered outcome whose `created` was lost).
   */
  deployment?: 'start' | 'update' | 'finish' | undefined;
  /** Add a line to the `to` commit's git note. */
  note: boolean;
  notify?: RolloutNotifyEvent | undefined;
}

/** What the reporter knows besides the record. */
export interface ReportContext {
  /** The environment's lock reason, if it is still locked. */
  lockReason?: string | undefined;
  /** The event's own text (`waiting: production is locked by carol: release freeze`). */
  eventText?: string | undefined;
  /**
   * The event's typed `data` (an `outcome` line's says how the rollout ended and why); absent on
   * lines written by older versions, which are decided from the record and the text.
   */
  eventData?: unknown;
  /** A commit status was posted for this rollout before (e.g. "deploy frozen"). */
  statusPosted?: boolean | undefined;
}

/**
 * The plan for rollout event `kind`. A rollout that ended before it started (superseded while
 * queued, or already running that revision: no plan was ever made) writes no note, since nothing
 * was deployed, and reports to the forge only to replace a status posted before (a deploy held by
 * a freeze, then superseded, must not stay "pending" forever); receivers that ask are notified.
 */
export function planReport(
  kind: string,
  stored: RolloutRecord,
  ctx: ReportContext = {},
): ReportPlan | null {
  const rec = asOfEvent(stored, ctx.eventData);
  const started = rec.plan !== undefined;
  switch (kind) {
    case 'created':
      // Already over (the outcome was delivered first, or this is a redelivery): a pending status
      // now would overwrite the final one.
      if (rec.outcome !== undefined) return { note: false, notify: 'started' };
      return {
        status: { state: 'in_progress', description: progressText(rec) },
        deployment: 'start',
        note: false,
        notify: 'started',
      };
    case 'waiting-lock':
      if (rec.outcome !== undefined) return null;
      return {
        status: {
          state: 'frozen',
          description: `deploy frozen: ${ctx.lockReason ?? lockText(ctx.eventText) ?? `${rec.env} is locked`}`,
        },
        deployment: 'update',
        note: false,
      };
    case 'outcome': {
      const outcome = rec.outcome;
      if (outcome === undefined) return null;
      if (!started) {
        if (!ctx.statusPosted) return { note: false, notify: outcome };
        return {
          status: { state: outcome, description: outcomeText(rec) },
          note: false,
          notify: outcome,
        };
      }
      return {
        status: { state: outcome, description: outcomeText(rec) },
        deployment: 'finish',
        note: true,
        notify: outcome,
      };
    }
    default:
      return null;
  }
}

/**
 * The record as the event saw it: an `outcome` line's data says how the rollout ended and why,
 * whatever the record says by the time the line is read. Without data (a line written by an older
 * version), the record as it is.
 */
export function asOfEvent(rec: RolloutRecord, data: unknown): RolloutRecord {
  const ended = outcomeData(data);
  return ended ? { ...rec, outcome: ended.outcome, reason: ended.reason } : rec;
}

/** The lock's reason in a `waiting-lock` event's text, when it has the runner's wording. */
function lockText(text: string | undefined): string | undefined {
  const m = /^waiting: .* is locked by [^:]*: (.+)$/.exec(text ?? '');
  return m?.[1];
}

/** `deploying abc1234 to production` (or the rollback's wording). */
export function progressText(rec: RolloutRecord): string {
  const sha = rec.to.sha.slice(0, 7);
  return rec.kind === 'deploy'
    ? `deploying ${sha} to ${rec.env}`
    : `rolling ${rec.env} back to ${sha}`;
}

/** `deployed to production`, `failed: <reason>`… */
export function outcomeText(rec: RolloutRecord): string {
  switch (rec.outcome) {
    case 'succeeded':
      return rec.kind === 'deploy' ? `deployed to ${rec.env}` : `restored in ${rec.env}`;
    case undefined:
      return progressText(rec);
    default:
      return rec.reason ? `${rec.outcome}: ${rec.reason}` : `${rec.outcome} in ${rec.env}`;
  }
}

/** The rollout page: `<publicUrl>/#/rollouts/<id>`. */
export function rolloutLink(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#/rollouts/${encodeURIComponent(id)}`;
}

/** The notification body for `event` of `rec`. */
export function noticeOf(
  rec: RolloutRecord,
  event: RolloutNotifyEvent,
  publicUrl: string,
  at: Date,
): RolloutNotice {
  const c = rec.commit;
  return {
    event,
    at: at.toISOString(),
    rollout: {
      id: rec.id,
      app: rec.app,
      env: rec.env,
      kind: rec.kind,
      url: rolloutLink(publicUrl, rec.id),
      trigger: triggerText(rec.trigger),
      from: rec.from,
      to: rec.to,
      ...(rec.outcome ? { outcome: rec.outcome } : {}),
      ...(rec.reason && event !== 'started' ? { reason: rec.reason } : {}),
    },
    ...(c
      ? {
          commit: {
            sha: c.sha,
            message: c.message.split('\n')[0] ?? '',
            author: c.author.name,
            ...(rec.pr
              ? { pr: rec.pr }
              : c.prNumber !== undefined
                ? { pr: { number: c.prNumber } }
                : {}),
          },
        }
      : {}),
  };
}
