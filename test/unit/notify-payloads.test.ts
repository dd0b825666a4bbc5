import { describe, expect, it } from 'vitest';
import type { NotificationConfig } from '../../src/config/controller-config.js';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { isGantryError } from '../../src/errors.js';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  notificationRequest,
  sign,
  slackText,
  verifyWebhookSignature,
  wants,
  type EnvNotice,
  type Notice,
  type RolloutNotice,
} from '../../src/history/notify.js';
import { envNoticeOf } from '../../src/history/env-notice.js';
import { noticeOf } from '../../src/history/report-plan.js';
import type { StoredEvent } from '../../src/events/bus.js';
import { healEventKind, healEventText, type HealEvent } from '../../src/reconcile/events.js';
import type { RolloutRecord } from '../../src/store/records.js';

const SHA = 'abc1234'.padEnd(40, '0');

function rec(over: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    id: 'r-7',
    app: 'hello',
    env: 'production',
    kind: 'deploy',
    trigger: { kind: 'webhook', provider: 'github', deliveryId: 'd', actor: 'alice' },
    from: null,
    to: { sha: SHA, image: 'reg/hello@sha256:1' },
    createdAt: '2026-11-23T15:00:00Z',
    commit: {
      sha: SHA,
      message: 'Fix login\n\nlong body',
      author: { name: 'Alice', email: 'a@example.test', timestamp: 1 },
    },
    pr: { number: 42, title: 'Fix login', url: 'https://github.com/acme/hello/pull/42' },
    ...over,
  };
}

const AT = new Date('2026-11-23T15:04:05Z');
const notice = (event: RolloutNotice['event'], over: Partial<RolloutRecord> = {}) =>
  noticeOf(rec(over), event, 'https://gantry.example.com/', AT);

const REPLACED: HealEvent = {
  kind: 'replaced',
  at: AT.getTime(),
  slot: 'r-7-2',
  instanceId: 'c0ffee',
  replacement: 'r-7-5',
  cause: 'exited',
  detail: 'exited with code 137',
};

/** An `env` event as the reconciler writes it: kind, line and typed data from one HealEvent. */
function envEvent(heal: HealEvent, over: Partial<StoredEvent> = {}): StoredEvent & { type: 'env' } {
  return {
    id: '5-0',
    type: 'env',
    at: heal.at,
    app: 'hello',
    env: 'production',
    kind: healEventKind(heal),
    text: healEventText(heal),
    data: heal,
    ...over,
  } as StoredEvent & { type: 'env' };
}
const envNotice = (heal: HealEvent = REPLACED): EnvNotice =>
  envNoticeOf(envEvent(heal), 'https://gantry.example.com/')!;

describe('which receivers want an event', () => {
  const base: NotificationConfig = { name: 'n', kind: 'webhook', url: 'http://127.0.0.1:1/' };
  const table: [string, Partial<NotificationConfig>, RolloutNotice['event'], boolean][] = [
    ['no filters: everything', {}, 'started', true],
    ['app listed', { apps: ['hello'] }, 'succeeded', true],
    ['app not listed', { apps: ['other'] }, 'succeeded', false],
    ['environment listed', { environments: ['production'] }, 'failed', true],
    ['environment not listed', { environments: ['staging'] }, 'failed', false],
    ['event listed', { events: ['failed', 'aborted'] }, 'aborted', true],
    ['event not listed', { events: ['failed'] }, 'started', false],
    ['all filters must hold', { apps: ['hello'], environments: ['staging'] }, 'failed', false],
  ];
  for (const [name, cfg, event, want] of table) {
    it(name, () => expect(wants({ ...base, ...cfg }, notice(event))).toBe(want));
  }

  const drift = envNotice({ kind: 'drift', at: 0, detail: '1 of 2 instances exited' });
  const envTable: [string, Partial<NotificationConfig>, Notice, boolean][] = [
    ['default (no events): self-heal', {}, envNotice(), true],
    ['default (no events): drift', {}, drift, true],
    ['rollout events only: no self-heal', { events: ['started', 'failed'] }, envNotice(), false],
    ['self-heal listed', { events: ['failed', 'self-heal'] }, envNotice(), true],
    ['self-heal listed, drift not', { events: ['self-heal'] }, drift, false],
    ['environment filter applies to env events', { environments: ['staging'] }, envNotice(), false],
    ['app filter applies to env events', { apps: ['hello'] }, envNotice(), true],
  ];
  for (const [name, cfg, n, want] of envTable) {
    it(name, () => expect(wants({ ...base, ...cfg }, n)).toBe(want));
  }
});

describe('env events as notices', () => {
  const pruned: HealEvent = {
    kind: 'pruned',
    at: 0,
    by: 'carol',
    instances: 2,
    route: 'hello-production',
  };
  const table: [string, StoredEvent & { type: 'env' }, Partial<EnvNotice> | undefined][] = [
    [
      'self-heal: the line, the app page and the typed event',
      envEvent(REPLACED),
      {
        event: 'self-heal',
        at: '2026-11-23T15:04:05.000Z',
        environment: {
          app: 'hello',
          env: 'production',
          url: 'https://gantry.example.com/#/apps/hello',
        },
        text: 'self-heal: replaced r-7-2 with r-7-5, exited with code 137',
        heal: REPLACED,
      },
    ],
    ['pruned', envEvent(pruned), { event: 'pruned', heal: pruned }],
    [
      'a line without data: the line alone',
      envEvent(REPLACED, { data: undefined }),
      { event: 'self-heal', text: 'self-heal: replaced r-7-2 with r-7-5, exited with code 137' },
    ],
    [
      'an environment event no receiver may ask for: none',
      envEvent(REPLACED, { kind: 'locked', text: 'locked by carol', data: undefined }),
      undefined,
    ],
  ];
  for (const [name, e, want] of table) {
    it(name, () => {
      const n = envNoticeOf(e, 'https://gantry.example.com');
      if (want === undefined) expect(n).toBeUndefined();
      else expect(n).toMatchObject(want);
    });
  }

  it('is built from the event alone: nothing of the app spec or its environment values', () => {
    const n = envNotice();
    expect(Object.keys(n).sort()).toEqual(['at', 'environment', 'event', 'heal', 'text']);
  });
});

describe('signed JSON webhook', () => {
  const cfg: NotificationConfig = {
    name: 'audit',
    kind: 'webhook',
    url: 'https://hooks.example.com/gantry',
    secret: 's3cret-s3cret',
  };
  const now = 1_800_000_000;

  it('sends the notice as JSON with event, delivery, timestamp and signature headers', () => {
    const req = notificationRequest(cfg, notice('succeeded', { outcome: 'succeeded' }), {
      nowSeconds: now,
      deliveryId: 'r-7:succeeded:1-0',
    });
    expect(req.method).toBe('POST');
    expect(req.url).toBe(cfg.url);
    expect(req.headers[EVENT_HEADER]).toBe('rollout.succeeded');
    expect(req.headers[DELIVERY_HEADER]).toBe('r-7:succeeded:1-0');
    expect(req.headers[TIMESTAMP_HEADER]).toBe(String(now));
    expect(req.headers[SIGNATURE_HEADER]).toMatch(/^sha256=[0-9a-f]{64}$/);
    const body = JSON.parse(req.body ?? '') as RolloutNotice;
    expect(body).toMatchObject({
      event: 'succeeded',
      at: '2026-11-23T15:04:05.000Z',
      rollout: {
        id: 'r-7',
        app: 'hello',
        env: 'production',
        url: 'https://gantry.example.com/#/rollouts/r-7',
        trigger: 'alice (webhook github)',
        outcome: 'succeeded',
      },
      commit: { sha: SHA, message: 'Fix login', author: 'Alice', pr: { number: 42 } },
    });
    expect(body).not.toHaveProperty('secret');
    expect(req.body).not.toContain(cfg.secret);
  });

  it('a receiver verifies the signature with its secret, and refuses tampering and replay', () => {
    const req = notificationRequest(cfg, notice('started'), { nowSeconds: now, deliveryId: 'x' });
    const h = {
      signature: req.headers[SIGNATURE_HEADER],
      timestamp: req.headers[TIMESTAMP_HEADER],
    };
    const body = req.body ?? '';
    expect(verifyWebhookSignature(cfg.secret!, h, body, now + 10)).toBe(true);
    expect(verifyWebhookSignature('another-secret', h, body, now)).toBe(false);
    expect(verifyWebhookSignature(cfg.secret!, h, body.replace('hello', 'hellp'), now)).toBe(false);
    expect(
      verifyWebhookSignature(cfg.secret!, { ...h, timestamp: String(now - 1) }, body, now),
    ).toBe(false);
    expect(verifyWebhookSignature(cfg.secret!, h, body, now + 3600)).toBe(false);
    expect(
      verifyWebhookSignature(
        cfg.secret!,
        { signature: undefined, timestamp: h.timestamp },
        body,
        now,
      ),
    ).toBe(false);
  });

  it('the signature is HMAC-SHA256 over "<timestamp>.<body>"', () => {
    // Known answer, computed independently: printf '1.{}' | openssl dgst -sha256 -hmac key
    expect(sign('key', '1', '{}')).toBe(
      'sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224',
    );
  });

  it('an env event: signed the same way, named env.<event>, the notice as the body', () => {
    const n = envNotice();
    const req = notificationRequest(cfg, n, { nowSeconds: now, deliveryId: 'hello/production:1' });
    expect(req.headers[EVENT_HEADER]).toBe('env.self-heal');
    expect(req.headers[DELIVERY_HEADER]).toBe('hello/production:1');
    const h = {
      signature: req.headers[SIGNATURE_HEADER],
      timestamp: req.headers[TIMESTAMP_HEADER],
    };
    expect(verifyWebhookSignature(cfg.secret!, h, req.body ?? '', now)).toBe(true);
    expect(JSON.parse(req.body ?? '')).toEqual(JSON.parse(JSON.stringify(n)));
    expect(req.body).not.toContain(cfg.secret);
  });

  it('without a secret, no signature header', () => {
    const req = notificationRequest({ ...cfg, secret: undefined }, notice('started'), {
      nowSeconds: now,
      deliveryId: 'x',
    });
    expect(req.headers[SIGNATURE_HEADER]).toBeUndefined();
  });
});

describe('Slack-compatible message', () => {
  const table: [string, Notice, string][] = [
    [
      'self-heal: the line, linked to the app page',
      envNotice(),
      ':adhesive_bandage: hello → production: self-heal: replaced r-7-2 with r-7-5, exited with code 137 — <https://gantry.example.com/#/apps/hello|hello>',
    ],
    [
      'drift, escaped',
      envNotice({ kind: 'drift', at: 0, detail: 'image <none> runs' }),
      ':warning: hello → production: drift (self-heal off): image &lt;none&gt; runs — <https://gantry.example.com/#/apps/hello|hello>',
    ],
    [
      'orphaned',
      envNotice({ kind: 'orphaned', at: 0, why: 'production left gantry.yaml' }),
      ':ghost: hello → production: orphaned: production left gantry.yaml — <https://gantry.example.com/#/apps/hello|hello>',
    ],
    [
      'started, with commit, PR and who',
      notice('started'),
      ":rocket: hello → production: started (abc1234 'Fix login' #42) by alice (webhook github) — <https://gantry.example.com/#/rollouts/r-7|rollout r-7>",
    ],
    [
      'failed, with the reason quoted',
      notice('failed', { outcome: 'failed', reason: 'web-1 unhealthy' }),
      ":x: hello → production: failed (abc1234 'Fix login' #42) by alice (webhook github) — <https://gantry.example.com/#/rollouts/r-7|rollout r-7>\n> web-1 unhealthy",
    ],
    [
      'a rollback by hand, no commit metadata, escaped',
      notice('succeeded', {
        kind: 'rollback',
        trigger: { kind: 'manual', actor: 'bob <ops>' },
        commit: undefined,
        pr: undefined,
      }),
      ':white_check_mark: hello → production: succeeded (rollback) (abc1234) by bob &lt;ops&gt; — <https://gantry.example.com/#/rollouts/r-7|rollout r-7>',
    ],
  ];
  for (const [name, n, want] of table) {
    it(name, () => expect(slackText(n)).toBe(want));
  }

  it('posts {text, blocks} to the incoming-webhook URL', () => {
    const cfg: NotificationConfig = {
      name: 's',
      kind: 'slack',
      url: 'https://hooks.slack.test/T/B/X',
    };
    const req = notificationRequest(cfg, notice('started'), { nowSeconds: 1, deliveryId: 'x' });
    const body = JSON.parse(req.body ?? '') as { text: string; blocks: unknown[] };
    expect(body.text).toBe(slackText(notice('started')));
    expect(body.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: body.text } }]);
    expect(req.headers['Content-Type']).toBe('application/json');
  });
});

describe('configuration of forges and notifications', () => {
  const text = [
    'repos:',
    '  - name: app',
    '    url: https://github.com/acme/app.git',
    '    forge: { kind: github, apiUrl: "https://api.github.com", tokenEnv: FORGE_TOKEN }',
    'notifications:',
    '  - { name: chat, kind: slack, url: "https://hooks.slack.test/x", environments: [production] }',
    '  - { name: audit, kind: webhook, url: "https://audit.example.com/", secretEnv: AUDIT_SECRET, events: [failed] }',
    '  - { name: ops, kind: slack, url: "https://hooks.slack.test/o", events: [self-heal, drift, orphaned, pruned] }',
  ].join('\n');

  it('reads tokens and secrets from the named variables', () => {
    const cfg = parseControllerConfig(text, { env: { FORGE_TOKEN: 't0k', AUDIT_SECRET: 'sec' } });
    expect(cfg.repos[0]?.forge).toEqual({
      kind: 'github',
      apiUrl: 'https://api.github.com',
      webUrl: undefined,
      project: undefined,
      token: 't0k',
    });
    expect(cfg.notifications).toEqual([
      {
        name: 'chat',
        kind: 'slack',
        url: 'https://hooks.slack.test/x',
        environments: ['production'],
        secret: undefined,
      },
      {
        name: 'audit',
        kind: 'webhook',
        url: 'https://audit.example.com/',
        events: ['failed'],
        secret: 'sec',
      },
      {
        name: 'ops',
        kind: 'slack',
        url: 'https://hooks.slack.test/o',
        events: ['self-heal', 'drift', 'orphaned', 'pruned'],
        secret: undefined,
      },
    ]);
  });

  it('defaults to no notifications', () => {
    const cfg = parseControllerConfig('repos: []', { env: {} });
    expect(cfg.notifications).toEqual([]);
  });

  const bad: [string, string, NodeJS.ProcessEnv, RegExp][] = [
    [
      'an unset token variable',
      text,
      { AUDIT_SECRET: 's' },
      /forge\.tokenEnv names FORGE_TOKEN, which is not set/,
    ],
    [
      'an unset secret variable',
      text,
      { FORGE_TOKEN: 't' },
      /secretEnv names AUDIT_SECRET, which is not set/,
    ],
    [
      'an unknown forge',
      text.replace('kind: github', 'kind: bitbucket'),
      { FORGE_TOKEN: 't', AUDIT_SECRET: 's' },
      /kind/,
    ],
    [
      'an unknown event',
      text.replace('[failed]', '[exploded]'),
      { FORGE_TOKEN: 't', AUDIT_SECRET: 's' },
      /events/,
    ],
  ];
  for (const [name, t, env, want] of bad) {
    it(`refuses ${name}`, () => {
      let message = '';
      try {
        parseControllerConfig(t, { env });
      } catch (e) {
        if (isGantryError(e, 'GANTRY_ERR_CONFIG_INVALID')) message = e.message;
      }
      expect(message).toMatch(want);
    });
  }
});
