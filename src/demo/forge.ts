import { randomUUID } from 'node:crypto';
import { signWebhook, type Provider } from '../source/webhooks/index.js';

export interface PushInfo {
  repoUrl: string;
  fullName: string;
  branch: string;
  before: string;
  after: string;
  message: string;
}

/** A push payload shaped as the forge documents it (only the fields Gantry reads, plus a few). */
export function pushPayload(provider: Provider, p: PushInfo): Record<string, unknown> {
  const ref = `refs/heads/${p.branch}`;
  const commit = {
    id: p.after,
    message: p.message,
    author: { name: 'Ada Lovelace', email: 'ada@example.com' },
  };
  if (provider === 'gitlab') {
    return {
      object_kind: 'push',
      event_name: 'push',
      ref,
      before: p.before,
      after: p.after,
      checkout_sha: p.after,
      user_username: 'ada',
      project: {
        path_with_namespace: p.fullName,
        git_http_url: p.repoUrl,
        web_url: p.repoUrl.replace(/\.git$/, ''),
      },
      commits: [commit],
      total_commits_count: 1,
    };
  }
  return {
    ref,
    before: p.before,
    after: p.after,
    created: /^0+$/.test(p.before),
    deleted: false,
    repository: {
      full_name: p.fullName,
      clone_url: p.repoUrl,
      html_url: p.repoUrl.replace(/\.git$/, ''),
    },
    pusher: { name: 'ada', email: 'ada@example.com', username: 'ada' },
    head_commit: commit,
    commits: [commit],
  };
}

/** Sends a signed push webhook the way a forge would; returns the HTTP status and body. */
export async function sendPushWebhook(
  controllerUrl: string,
  provider: Provider,
  secret: string,
  push: PushInfo,
  opts: { deliveryId?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; deliveryId: string }> {
  const body = Buffer.from(JSON.stringify(pushPayload(provider, push)));
  const headers = signWebhook(provider, body, secret);
  const deliveryId = opts.deliveryId ?? randomUUID();
  const idHeader = {
    github: 'x-github-delivery',
    gitlab: 'x-gitlab-event-uuid',
    gitea: 'x-gitea-delivery',
  }[provider];
  const res = await fetch(`${controllerUrl}/webhooks/${provider}`, {
    method: 'POST',
    headers: { ...flatten(headers), [idHeader]: deliveryId, 'content-type': 'application/json' },
    body: new Uint8Array(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, deliveryId };
}

function flatten(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

/**
 * A forge's side of one repo: after each push it sends the signed push webhook a forge would,
 * remembering the previous head as the next push's `before`.
 */
export class ForgeRepo {
  private before = '0'.repeat(40);

  constructor(
    private readonly repo: { repoUrl: string; fullName: string; secret: string; branch?: string },
  ) {}

  /** Pushes the worktree's HEAD (`sha`) and notifies `controllerUrl` as `provider`. */
  async pushed(
    controllerUrl: string,
    provider: Provider,
    sha: string,
    message: string,
  ): Promise<{ status: number; body: Record<string, unknown>; deliveryId: string }> {
    const res = await sendPushWebhook(controllerUrl, provider, this.repo.secret, {
      repoUrl: this.repo.repoUrl,
      fullName: this.repo.fullName,
      branch: this.repo.branch ?? 'main',
      before: this.before,
      after: sha,
      message,
    });
    this.before = sha;
    return res;
  }

  /** Like `pushed`, but any answer other than 202 (accepted) is an error. */
  async accepted(controllerUrl: string, provider: Provider, sha: string, message: string) {
    const res = await this.pushed(controllerUrl, provider, sha, message);
    if (res.status !== 202) {
      throw new Error(`webhook answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
  }
}
