/**
 * GitLab webhooks: a shared secret in `X-Gitlab-Token` (GitLab does not sign bodies), event in
 * `X-Gitlab-Event`, delivery id in `X-Gitlab-Event-UUID` (or `X-Gitlab-Webhook-UUID` on newer
 * versions). Payloads: docs.gitlab.com "Webhook events › Push events". GitLab has no ping: its
 * "Test" button sends a real Push Hook.
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
import { verifySharedToken } from './signature.js';

const TOKEN_HEADER = 'x-gitlab-token';
const EVENT_HEADER = 'x-gitlab-event';
// Event-UUID identifies the event and survives GitLab's own retries; Webhook-UUID names the hook.
const DELIVERY_HEADERS = ['x-gitlab-event-uuid', 'x-gitlab-webhook-uuid'] as const;

const PUSH_HOOK = 'Push Hook';
const TAG_PUSH_HOOK = 'Tag Push Hook';

/** GitLab's project URL fields; `http_url`/`ssh_url` are deprecated aliases older versions still send. */
const PROJECT_URL_KEYS = ['git_http_url', 'git_ssh_url', 'web_url', 'http_url', 'ssh_url'] as const;

export const gitlab: WebhookAdapter = {
  deliveryHeaders: DELIVERY_HEADERS,

  verify(headers, _rawBody, secret) {
    return verifySharedToken(secret, headerValue(headers, TOKEN_HEADER));
  },

  sign(rawBody, secret, event, deliveryId): Headers {
    const guessed = sniffJson(rawBody)?.['object_kind'] === 'tag_push' ? TAG_PUSH_HOOK : PUSH_HOOK;
    return {
      'content-type': 'application/json',
      [EVENT_HEADER]: event ?? guessed,
      [DELIVERY_HEADERS[0]]: deliveryId,
      [TOKEN_HEADER]: secret,
    };
  },

  claim(body) {
    return attempt(() => projectOf(Fields.root('gitlab', body)));
  },

  parse(headers, body, deliveryId): WebhookEvent {
    const event = headerValue(headers, EVENT_HEADER);
    const base = { provider: 'gitlab', deliveryId } as const;
    switch (event) {
      case PUSH_HOOK:
        return parsePush(Fields.root('gitlab push', body), deliveryId);
      case TAG_PUSH_HOOK: {
        const root = Fields.root('gitlab tag push', body);
        const repo = attempt(() => projectOf(root));
        const target = attempt(() => classifyRef(root, 'ref'));
        const detail = target?.kind === 'ignored' ? target.detail : 'a tag was pushed';
        return { kind: 'ignored', ...base, ...(repo && { repo }), reason: 'tag-push', detail };
      }
      case undefined:
        throw missingHeader('gitlab', EVENT_HEADER);
      default: {
        // System Hooks, Merge Request Hooks and the rest: well-formed, but nothing to deploy.
        const repo = attempt(() => projectOf(Fields.root('gitlab', body)));
        const detail = `gitlab event '${brief(event)}' is not handled`;
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
  const base = { provider: 'gitlab', deliveryId } as const;
  const kind = root.optionalString('object_kind');
  if (kind !== undefined && kind !== 'push')
    root.fail('object_kind', `must be 'push' in a Push Hook, got "${brief(kind)}"`);
  const repo = projectOf(root);
  const target = classifyRef(root, 'ref');
  if (target.kind === 'ignored') return { ...target, ...base, repo };
  const before = root.sha('before');
  const after = root.sha('after');
  // GitLab marks a deleted branch only by the zero SHA (and a null checkout_sha).
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
  const pusher = root.looseString('user_username') ?? root.looseString('user_name');
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

function projectOf(root: Fields) {
  return repoRef(root.object('project'), 'path_with_namespace', PROJECT_URL_KEYS);
}

/** GitLab sends no head commit, only up to 20 `commits`; the head is the one whose id is `after`. */
function headCommitOf(root: Fields, after: string): HeadCommit | undefined {
  const commit = root.objects('commits').find((c) => c.looseString('id')?.toLowerCase() === after);
  if (commit === undefined) return undefined;
  const name = commit.optionalObject('author')?.looseString('name');
  return {
    id: commit.sha('id'),
    message: commit.text('message'),
    ...(name !== undefined && { author: name }),
  };
}
