/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC>`, event in `X-GitHub-Event`, delivery
 * id in `X-GitHub-Delivery`. Push payloads: docs.github.com "Webhook events and payloads › push".
 */
import { prNumberFromMessage } from '../commit-meta.js';
import {
  headerValue,
  type Headers,
  type HeadCommit,
  type WebhookAdapter,
  type WebhookEvent,
} from './event.js';
import {
  attempt,
  brief,
  classifyRef,
  Fields,
  isZeroSha,
  missingHeader,
  repoRef,
  sniffJson,
} from './payload.js';
import { hmacSha256Hex, verifyHmacSha256 } from './signature.js';

const SIGNATURE_HEADER = 'x-hub-signature-256';
const EVENT_HEADER = 'x-github-event';
const DELIVERY_HEADER = 'x-github-delivery';
const SIGNATURE_PREFIX = 'sha256=';

/** GitHub's repository URL fields, the clone URL first because it is the one users configure. */
const REPO_URL_KEYS = ['clone_url', 'html_url', 'ssh_url', 'git_url'] as const;

export const github: WebhookAdapter = {
  deliveryHeaders: [DELIVERY_HEADER],

  verify(headers, rawBody, secret) {
    const header = headerValue(headers, SIGNATURE_HEADER);
    if (header === undefined || !header.startsWith(SIGNATURE_PREFIX)) return false;
    return verifyHmacSha256(secret, rawBody, header.slice(SIGNATURE_PREFIX.length));
  },

  sign(rawBody, secret, event, deliveryId): Headers {
    return {
      'content-type': 'application/json',
      [EVENT_HEADER]: event ?? (looksLikePing(rawBody) ? 'ping' : 'push'),
      [DELIVERY_HEADER]: deliveryId,
      [SIGNATURE_HEADER]: `${SIGNATURE_PREFIX}${hmacSha256Hex(secret, rawBody)}`,
    };
  },

  claim(body) {
    return attempt(() => repoOf(Fields.root('github', body)));
  },

  parse(headers, body, deliveryId): WebhookEvent {
    const event = headerValue(headers, EVENT_HEADER);
    const base = { provider: 'github', deliveryId } as const;
    switch (event) {
      case 'push':
        return parsePush(Fields.root('github push', body), deliveryId);
      case 'ping': {
        // Organisation hooks ping without a repository, so it is optional here.
        const repo = attempt(() => repoOf(Fields.root('github ping', body)));
        return { kind: 'ping', ...base, ...(repo && { repo }) };
      }
      case undefined:
        throw missingHeader('github', EVENT_HEADER);
      default: {
        const repo = attempt(() => repoOf(Fields.root('github', body)));
        const detail = `github event '${brief(event)}' is not handled`;
        return {
          kind: 'ignored',
          ...base,
          ...(repo && { repo }),
          reason: 'unsupported-event',
          detail,
        };
      }
    }
  },
};

function parsePush(root: Fields, deliveryId: string): WebhookEvent {
  const base = { provider: 'github', deliveryId } as const;
  const repo = repoOf(root);
  const target = classifyRef(root, 'ref');
  if (target.kind === 'ignored') return { ...target, ...base, repo };
  const deletion = { kind: 'ignored', ...base, repo, reason: 'branch-deletion' } as const;
  if (root.optionalBoolean('deleted') === true) {
    return { ...deletion, detail: `branch '${target.branch}' was deleted` };
  }
  const before = root.sha('before');
  const after = root.sha('after');
  if (isZeroSha(after)) return { ...deletion, detail: `branch '${target.branch}' was deleted` };

  const headCommit = headCommitOf(root);
  const prNumber = headCommit && prNumberFromMessage(headCommit.message);
  const pusher = root.optionalObject('pusher')?.looseString('name');
  return {
    kind: 'push',
    ...base,
    repo,
    branch: target.branch,
    before,
    after,
    ...(pusher !== undefined && { pusher }),
    ...(headCommit && { headCommit }),
    ...(prNumber !== undefined && { prNumber }),
  };
}

function repoOf(root: Fields) {
  return repoRef(root.object('repository'), 'full_name', REPO_URL_KEYS);
}

/** The pushed tip; GitHub sends null when the push deleted the branch or carried no commit. */
function headCommitOf(root: Fields): HeadCommit | undefined {
  const commit = root.optionalObject('head_commit');
  if (commit === undefined) return undefined;
  const author = commit.optionalObject('author');
  const name = author?.looseString('name') ?? author?.looseString('username');
  return {
    id: commit.sha('id'),
    message: commit.text('message'),
    ...(name !== undefined && { author: name }),
  };
}

/** GitHub's ping carries `zen` and `hook_id`; no other event does. */
function looksLikePing(rawBody: Buffer): boolean {
  const body = sniffJson(rawBody);
  return body !== undefined && 'zen' in body && 'hook_id' in body;
}
