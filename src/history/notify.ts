/**
 * Outgoing notifications of rollout starts and outcomes. Pure builders: which receivers want an
 * event, the signed JSON webhook request, the Slack-compatible incoming-webhook request.
 *
 * The webhook is signed like GitHub signs its own, with the time folded in against replay:
 * `X-Gantry-Signature-256: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` and
 * `X-Gantry-Timestamp: <unix seconds>`. A receiver recomputes the HMAC over the raw body and
 * refuses a timestamp older than a few minutes (`verifyWebhookSignature`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NotificationConfig, NotifyEvent } from '../config/controller-config.js';
import type { OutgoingRequest } from './outgoing.js';

export const SIGNATURE_HEADER = 'X-Gantry-Signature-256';
export const TIMESTAMP_HEADER = 'X-Gantry-Timestamp';
export const EVENT_HEADER = 'X-Gantry-Event';
export const DELIVERY_HEADER = 'X-Gantry-Delivery';
/** How old a signed timestamp a receiver should still accept (seconds). */
export const SIGNATURE_TOLERANCE_S = 300;

/** What a notification says about one rollout: the webhook's JSON body, as documented. */
export interface RolloutNotice {
  event: NotifyEvent;
  /** ISO time of the event. */
  at: string;
  rollout: {
    id: string;
    app: string;
    env: string;
    kind: string;
    /** The rollout page. */
    url: string;
    trigger: string;
    from: { sha: string; image: string } | null;
    to: { sha: string; image: string };
    outcome?: string | undefined;
    reason?: string | undefined;
  };
  commit?:
    | {
        sha: string;
        /** First line of the message. */
        message: string;
        author: string;
        pr?: { number: number; title?: string | undefined; url?: string | undefined } | undefined;
      }
    | undefined;
}

/** True when the receiver asked for this event of this app and environment. */
export function wants(cfg: NotificationConfig, n: RolloutNotice): boolean {
  if (cfg.apps && !cfg.apps.includes(n.rollout.app)) return false;
  if (cfg.environments && !cfg.environments.includes(n.rollout.env)) return false;
  return !cfg.events || cfg.events.includes(n.event);
}

/** The request for one receiver. */
export function notificationRequest(
  cfg: NotificationConfig,
  n: RolloutNotice,
  opts: { nowSeconds: number; deliveryId: string },
): OutgoingRequest {
  switch (cfg.kind) {
    case 'webhook':
      return webhookRequest(cfg, n, opts);
    case 'slack':
      return slackRequest(cfg, n);
  }
}

/** The generic JSON webhook: the notice as the body, signed when the receiver has a secret. */
export function webhookRequest(
  cfg: NotificationConfig,
  n: RolloutNotice,
  opts: { nowSeconds: number; deliveryId: string },
): OutgoingRequest {
  const body = JSON.stringify(n);
  const timestamp = String(opts.nowSeconds);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'gantry',
    [EVENT_HEADER]: `rollout.${n.event}`,
    [DELIVERY_HEADER]: opts.deliveryId,
    [TIMESTAMP_HEADER]: timestamp,
  };
  if (cfg.secret !== undefined) headers[SIGNATURE_HEADER] = sign(cfg.secret, timestamp, body);
  return { method: 'POST', url: cfg.url, headers, body };
}

/** `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`. */
export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: true when the signature matches and the timestamp is recent. */
export function verifyWebhookSignature(
  secret: string,
  h: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  nowSeconds: number,
): boolean {
  if (h.signature === undefined || h.timestamp === undefined) return false;
  const ts = Number(h.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > SIGNATURE_TOLERANCE_S) return false;
  const want = Buffer.from(sign(secret, h.timestamp, body));
  const got = Buffer.from(h.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

const EMOJI: Record<NotifyEvent, string> = {
  started: ':rocket:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  aborted: ':octagonal_sign:',
  superseded: ':fast_forward:',
};

/** The Slack-compatible incoming-webhook body: `text` (also the fallback) and one section block. */
export function slackRequest(cfg: NotificationConfig, n: RolloutNotice): OutgoingRequest {
  const text = slackText(n);
  return {
    method: 'POST',
    url: cfg.url,
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'gantry' },
    body: JSON.stringify({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] }),
  };
}

/**
 * One line: `:rocket: hello → production: started (abc1234 'Fix login' #42) by alice — <url|rollout r-1>`,
 * with the reason after an outcome other than success.
 */
export function slackText(n: RolloutNotice): string {
  const r = n.rollout;
  const c = n.commit;
  const sha = (c?.sha ?? r.to.sha).slice(0, 7);
  const what = c ? `${sha} '${escapeSlack(c.message)}'${c.pr ? ` #${c.pr.number}` : ''}` : sha;
  const kind = r.kind === 'deploy' ? '' : ` (${r.kind})`;
  let text = `${EMOJI[n.event]} ${escapeSlack(r.app)} → ${escapeSlack(r.env)}: ${n.event}${kind} (${what}) by ${escapeSlack(r.trigger)} — <${r.url}|rollout ${r.id}>`;
  if (n.event !== 'started' && n.event !== 'succeeded' && r.reason) {
    text += `\n> ${escapeSlack(r.reason)}`;
  }
  return text;
}

// Slack's mrkdwn needs only these three escaped.
function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
