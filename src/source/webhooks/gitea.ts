/**
 * Gitea (and Forgejo) webhooks: `X-Gitea-Signature: <hex HMAC-SHA256>` without a prefix, event in
 * `X-Gitea-Event`, delivery id in `X-Gitea-Delivery`. Payloads follow Gitea's `api.PushPayload`
 * (docs: "Usage › Webhooks"). Gitea has no ping ("Test Delivery" sends a push) and reports a deleted
 * branch with a separate `delete` event rather than a push.
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
} from './payload.js';
import { hmacSha256Hex, verifyHmacSha256 } from './signature.js';

const SIGNATURE_HEADER = 'x-gitea-signature';
const EVENT_HEADER = 'x-gitea-event';
const DELIVERY_HEADER = 'x-gitea-delivery';

const REPO_URL_KEYS = ['clone_url', 'html_url', 'ssh_url'] as const;

export const gitea: WebhookAdapter = {
  deliveryHeaders: [DELIVERY_HEADER],

  verify(headers, rawBody, secret) {
    return verifyHmacSha256(secret, rawBody, headerValue(headers, SIGNATURE_HEADER));
  },

  sign(rawBody, secret, event, deliveryId): Headers {
    return {
      'content-type': 'application/json',
      [EVENT_HEADER]: event ?? 'push',
      [DELIVERY_HEADER]: deliveryId,
      [SIGNATURE_HEADER]: hmacSha256Hex(secret, rawBody),
    };
  },

  claim(body) {
    return attempt(() => repoOf(Fields.root('gitea', body)));
  },

  parse(headers, body, deliveryId): WebhookEvent {
    const event = headerValue(headers, EVENT_HEADER);
    const base = { provider: 'gitea', deliveryId } as const;
    switch (event) {
      case 'push':
        return parsePush(Fields.root('gitea push', body), deliveryId);
      case 'delete': {
        const root = Fields.root('gitea delete', body);
        const repo = attempt(() => repoOf(root));
        const name = brief(root.looseString('ref') ?? 'unknown');
        if (root.looseString('ref_type') === 'branch') {
          return {
            kind: 'ignored',
            ...base,
            ...(repo && { repo }),
            reason: 'branch-deletion',
            detail: `branch '${name}' was deleted`,
          };
        }
        const detail = `gitea deletion of ${brief(root.looseString('ref_type') ?? 'ref')} '${name}' is not handled`;
        return {
          kind: 'ignored',
          ...base,
          ...(repo && { repo }),
          reason: 'unsupported-event',
          detail,
        };
      }
      case undefined:
        throw missingHeader('gitea', EVENT_HEADER);
      default: {
        const repo = attempt(() => repoOf(Fields.root('gitea', body)));
        const detail = `gitea event '${brief(event)}' is not handled`;
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
  const base = { provider: 'gitea', deliveryId } as const;
  const repo = repoOf(root);
  const target = classifyRef(root, 'ref');
  if (target.kind === 'ignored') return { ...target, ...base, repo };
  const before = root.sha('before');
  const after = root.sha('after');
  // Not sent by current Gitea (it uses the `delete` event), but a zero `after` can only mean deletion.
  if (isZeroSha(after)) {
    return {
      kind: 'ignored',
      ...base,
      repo,
      reason: 'branch-deletion',
      detail: `branch '${target.branch}' was deleted`,
    };
  }

  const headCommit = headCommitOf(root, after);
  const prNumber = headCommit && prNumberFromMessage(headCommit.message);
  const pusherObj = root.optionalObject('pusher');
  const pusher = pusherObj?.looseString('login') ?? pusherObj?.looseString('username');
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

/** `head_commit` where Gitea sends it, else the entry of `commits` whose id is `after` (older versions). */
function headCommitOf(root: Fields, after: string): HeadCommit | undefined {
  const commit =
    root.optionalObject('head_commit') ??
    root.objects('commits').find((c) => c.looseString('id')?.toLowerCase() === after);
  if (commit === undefined) return undefined;
  const author = commit.optionalObject('author');
  const name = author?.looseString('name') ?? author?.looseString('username');
  return {
    id: commit.sha('id'),
    message: commit.text('message'),
    ...(name !== undefined && { author: name }),
  };
}
