/**
 * Outgoing notifications of rollout starts and outcomes, and of what the reconciler did or saw
 * between rollouts (self-heal, drift, orphaned, pruned). Pure builders: which receivers want an
 * event, the signed JSON webhook request, the Slack-compatible incoming-webhook request.
 *
 * The webhook is signed like GitHub signs its own, with the time folded in against replay:
 * `X-Gantry-Signature-256: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` and
 * `X-Gantry-Timestamp: <unix seconds>`. A receiver recomputes the HMAC over the raw body and
 * refuses a timestamp older than a few minutes (`verifyWebhookSignature`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  DEFAULT_NOTIFY_EVENTS,
  type EnvNotifyEvent,
  type NotificationConfig,
  type NotifyEvent,
  type RolloutNotifyEvent,
} from '../config/controller-config.js';
import type { HealEvent } from '../reconcile/events.js';
import type { OutgoingRequest } from './outgoing.js';

export const SIGNATURE_HEADER = 'X-Gantry-Signature-256';
export const TIMESTAMP_HEADER = 'X-Gantry-Timestamp';
export const EVENT_HEADER = 'X-Gantry-Event';
export const DELIVERY_HEADER = 'X-Gantry-Delivery';
/** How old a signed timestamp a receiver should still accept (seconds). */
export const SIGNATURE_TOLERANCE_S = 300;

/** What a notification says about one rollout: the webhook's JSON body, as documented. */
export interface RolloutNotice {
  event: RolloutNotifyEvent;
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

/**
 * What a notification says about an `env` event: the reconciler's repair, drift, orphan or
 * prune. Built from the event alone (its one line and typed data), which by design carry slots,
 * revisions and reasons, never an environment variable's value.
 */
export interface EnvNotice {
  event: EnvNotifyEvent;
  /** ISO time of the event. */
  at: string;
  environment: {
    app: string;
    env: string;
    /** The app's page. */
    url: string;
  };
  /** The timeline's line, e.g. `self-heal: replaced web-2 with web-5, exited with code 137`. */
  text: string;
  /** The reconciler's typed event (its `kind` says what was done), when the line carried one. */
  heal?: HealEvent | undefined;
}

export type Notice = RolloutNotice | EnvNotice;

function isEnvNotice(n: Notice): n is EnvNotice {
  return 'environment' in n;
}

/** The app and environment a notice is about. */
function subject(n: Notice): { app: string; env: string } {
  return isEnvNotice(n) ? n.environment : n.rollout;
}

/** True when the receiver asked for this event of this app and environment. */
export function wants(cfg: NotificationConfig, n: Notice): boolean {
  const { app, env } = subject(n);
  if (cfg.apps && !cfg.apps.includes(app)) return false;
  if (cfg.environments && !cfg.environments.includes(env)) return false;
  return (cfg.events ?? DEFAULT_NOTIFY_EVENTS).includes(n.event);
}

/** `X-Gantry-Event`: `rollout.<event>` or `env.<event>`. */
export function eventName(n: Notice): string {
  return `${isEnvNotice(n) ? 'env' : 'rollout'}.${n.event}`;
}

/** The request for one receiver. */
export function notificationRequest(
  cfg: NotificationConfig,
  n: Notice,
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
  n: Notice,
  opts: { nowSeconds: number; deliveryId: string },
): OutgoingRequest {
  const body = JSON.stringify(n);
  const timestamp = String(opts.nowSeconds);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'gantry',
    [EVENT_HEADER]: eventName(n),
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
  'self-heal': ':adhesive_bandage:',
  drift: ':warning:',
  orphaned: ':ghost:',
  pruned: ':wastebasket:',
};

/** The Slack-compatible incoming-webhook body: `text` (also the fallback) and one section block. */
export function slackRequest(cfg: NotificationConfig, n: Notice): OutgoingRequest {
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
 * with the reason after an outcome other than success; for an `env` event, its timeline line:
 * `:adhesive_bandage: hello → production: self-heal: replaced … — <url|hello>`.
 */
export function slackText(n: Notice): string {
  if (isEnvNotice(n)) {
    const { app, env, url } = n.environment;
    return `${EMOJI[n.event]} ${escapeSlack(app)} → ${escapeSlack(env)}: ${escapeSlack(n.text)} — <${url}|${escapeSlack(app)}>`;
  }
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
