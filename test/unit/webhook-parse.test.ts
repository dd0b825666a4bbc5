import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseWebhook,
  signWebhook,
  type Provider,
  type RepoRef,
  type WebhookEvent,
} from '../../src/source/webhooks/index.js';

const raw = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url));

const BEFORE = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const AFTER = '4e4fd2c1a7d3b2a9f0c8e7d6b5a4f3e2d1c0b9a8';
const ID = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

const GITHUB_REPO: RepoRef = {
  fullName: 'acme/hello',
  urls: [
    'https://github.com/acme/hello.git',
    'https://github.com/acme/hello',
    'git@github.com:acme/hello.git',
    'git://github.com/acme/hello.git',
  ],
};
const GITLAB_REPO: RepoRef = {
  fullName: 'acme/platform/hello',
  urls: [
    'https://gitlab.example.com/acme/platform/hello.git',
    'git@gitlab.example.com:acme/platform/hello.git',
    'https://gitlab.example.com/acme/platform/hello',
  ],
};
const GITEA_REPO: RepoRef = {
  fullName: 'acme/hello',
  urls: [
    'https://gitea.example.com/acme/hello.git',
    'https://gitea.example.com/acme/hello',
    'ssh://git@gitea.example.com:2222/acme/hello.git',
  ],
};

interface Case {
  name: string;
  provider: Provider;
  fixture: string;
  event: string;
  expected: WebhookEvent;
}

const CASES: Case[] = [
  {
    name: 'github push of a merged pull request',
    provider: 'github',
    fixture: 'github-push',
    event: 'push',
    expected: {
      kind: 'push',
      provider: 'github',
      deliveryId: ID,
      repo: GITHUB_REPO,
      branch: 'main',
      before: BEFORE,
      after: AFTER,
      pusher: 'octocat',
      headCommit: {
        id: AFTER,
        message: 'Merge pull request #42 from acme/feature-health\n\nAdd /healthz endpoint',
        author: 'Mona Octocat',
      },
      prNumber: 42,
    },
  },
  {
    name: 'github ping',
    provider: 'github',
    fixture: 'github-ping',
    event: 'ping',
    expected: { kind: 'ping', provider: 'github', deliveryId: ID, repo: GITHUB_REPO },
  },
  {
    name: 'github tag push',
    provider: 'github',
    fixture: 'github-tag-push',
    event: 'push',
    expected: {
      kind: 'ignored',
      provider: 'github',
      deliveryId: ID,
      repo: GITHUB_REPO,
      reason: 'tag-push',
      detail: "tag 'v1.2.0' was pushed",
    },
  },
  {
    name: 'github branch deletion',
    provider: 'github',
    fixture: 'github-branch-delete',
    event: 'push',
    expected: {
      kind: 'ignored',
      provider: 'github',
      deliveryId: ID,
      repo: GITHUB_REPO,
      reason: 'branch-deletion',
      detail: "branch 'feature-health' was deleted",
    },
  },
  {
    name: 'github unsupported event',
    provider: 'github',
    fixture: 'github-push',
    event: 'pull_request',
    expected: {
      kind: 'ignored',
      provider: 'github',
      deliveryId: ID,
      repo: GITHUB_REPO,
      reason: 'unsupported-event',
      detail: "github event 'pull_request' is not handled",
    },
  },
  {
    name: 'gitlab push of a merged merge request',
    provider: 'gitlab',
    fixture: 'gitlab-push',
    event: 'Push Hook',
    expected: {
      kind: 'push',
      provider: 'gitlab',
      deliveryId: ID,
      repo: GITLAB_REPO,
      branch: 'main',
      before: BEFORE,
      after: AFTER,
      pusher: 'jsmith',
      headCommit: {
        id: AFTER,
        message:
          "Merge branch 'feature-health' into 'main'\n\nAdd health endpoint\n\nSee merge request acme/platform/hello!17\n",
        author: 'John Smith',
      },
      prNumber: 17,
    },
  },
  {
    name: 'gitlab tag push',
    provider: 'gitlab',
    fixture: 'gitlab-tag-push',
    event: 'Tag Push Hook',
    expected: {
      kind: 'ignored',
      provider: 'gitlab',
      deliveryId: ID,
      repo: GITLAB_REPO,
      reason: 'tag-push',
      detail: "tag 'v1.0.0' was pushed",
    },
  },
  {
    name: 'gitlab branch deletion',
    provider: 'gitlab',
    fixture: 'gitlab-branch-delete',
    event: 'Push Hook',
    expected: {
      kind: 'ignored',
      provider: 'gitlab',
      deliveryId: ID,
      repo: GITLAB_REPO,
      reason: 'branch-deletion',
      detail: "branch 'feature-health' was deleted",
    },
  },
  {
    name: 'gitlab system hook',
    provider: 'gitlab',
    fixture: 'gitlab-push',
    event: 'System Hook',
    expected: {
      kind: 'ignored',
      provider: 'gitlab',
      deliveryId: ID,
      repo: GITLAB_REPO,
      reason: 'unsupported-event',
      detail: "gitlab event 'System Hook' is not handled",
    },
  },
  {
    name: 'gitea push of a squash-merged pull request',
    provider: 'gitea',
    fixture: 'gitea-push',
    event: 'push',
    expected: {
      kind: 'push',
      provider: 'gitea',
      deliveryId: ID,
      repo: GITEA_REPO,
      branch: 'main',
      before: BEFORE,
      after: AFTER,
      pusher: 'gitea',
      headCommit: {
        id: AFTER,
        message:
          'Add health endpoint (#7)\n\nReviewed-on: https://gitea.example.com/acme/hello/pulls/7\n',
        author: 'Gitea Admin',
      },
      prNumber: 7,
    },
  },
  {
    name: 'gitea tag push',
    provider: 'gitea',
    fixture: 'gitea-tag-push',
    event: 'push',
    expected: {
      kind: 'ignored',
      provider: 'gitea',
      deliveryId: ID,
      repo: GITEA_REPO,
      reason: 'tag-push',
      detail: "tag 'v1.0.0' was pushed",
    },
  },
  {
    name: 'gitea branch deletion (delete event)',
    provider: 'gitea',
    fixture: 'gitea-branch-delete',
    event: 'delete',
    expected: {
      kind: 'ignored',
      provider: 'gitea',
      deliveryId: ID,
      repo: GITEA_REPO,
      reason: 'branch-deletion',
      detail: "branch 'feature-health' was deleted",
    },
  },
  {
    name: 'gitea unsupported event',
    provider: 'gitea',
    fixture: 'gitea-push',
    event: 'pull_request',
    expected: {
      kind: 'ignored',
      provider: 'gitea',
      deliveryId: ID,
      repo: GITEA_REPO,
      reason: 'unsupported-event',
      detail: "gitea event 'pull_request' is not handled",
    },
  },
];

describe('parseWebhook on documented payloads', () => {
  it.each(CASES)('$name', ({ provider, fixture, event, expected }) => {
    const body = raw(fixture);
    const headers = signWebhook(provider, body, 'secret', { event, deliveryId: ID });
    expect(parseWebhook(provider, headers, body)).toEqual(expected);
  });
});

/** Rewrites a fixture as JSON after `edit`, for the variations the fixtures do not cover. */
function variant(fixture: string, edit: (body: Record<string, unknown>) => void): Buffer {
  const body = JSON.parse(raw(fixture).toString('utf8')) as Record<string, unknown>;
  edit(body);
  return Buffer.from(JSON.stringify(body));
}

interface VariantCase {
  name: string;
  provider: Provider;
  body: Buffer;
  event?: string;
  expected: Partial<WebhookEvent> & Record<string, unknown>;
}

const ZERO = '0'.repeat(40);
const SHA256_AFTER = 'ab'.repeat(32);

const VARIANTS: VariantCase[] = [
  {
    name: 'github branch creation (zero before) is a push',
    provider: 'github',
    body: variant('github-push', (b) => Object.assign(b, { before: ZERO, created: true })),
    expected: { kind: 'push', before: ZERO, after: AFTER },
  },
  {
    name: 'github zero after without deleted flag is a deletion',
    provider: 'github',
    body: variant('github-push', (b) => {
      delete b.deleted;
      b.after = ZERO;
    }),
    expected: { kind: 'ignored', reason: 'branch-deletion' },
  },
  {
    name: 'github push to a nested branch name',
    provider: 'github',
    body: variant('github-push', (b) => (b.ref = 'refs/heads/release/2024.05')),
    expected: { kind: 'push', branch: 'release/2024.05' },
  },
  {
    name: 'github push to a sha256 repository',
    provider: 'github',
    body: variant('github-push', (b) =>
      Object.assign(b, { after: SHA256_AFTER, head_commit: null }),
    ),
    expected: { kind: 'push', after: SHA256_AFTER },
  },
  {
    name: 'github upper-case SHAs are normalised',
    provider: 'github',
    body: variant('github-push', (b) => (b.after = AFTER.toUpperCase())),
    expected: { kind: 'push', after: AFTER },
  },
  {
    name: 'github push without head commit has no PR number',
    provider: 'github',
    body: variant('github-push', (b) => (b.head_commit = null)),
    expected: { kind: 'push', headCommit: undefined, prNumber: undefined },
  },
  {
    name: 'github push of a notes ref is ignored, not an error',
    provider: 'github',
    body: variant('github-push', (b) => (b.ref = 'refs/notes/gantry')),
    expected: {
      kind: 'ignored',
      reason: 'unsupported-event',
      detail: "ref 'refs/notes/gantry' is not a branch",
    },
  },
  {
    name: 'github org ping without repository',
    provider: 'github',
    event: 'ping',
    body: variant('github-ping', (b) => delete b.repository),
    expected: { kind: 'ping', repo: undefined },
  },
  {
    name: 'github unsupported event with a malformed repository still parses',
    provider: 'github',
    event: 'issues',
    body: variant('github-push', (b) => (b.repository = 'acme/hello')),
    expected: { kind: 'ignored', reason: 'unsupported-event', repo: undefined },
  },
  {
    name: 'gitlab tag ref inside a Push Hook is still a tag push',
    provider: 'gitlab',
    body: variant('gitlab-push', (b) => (b.ref = 'refs/tags/v1.0.0')),
    expected: { kind: 'ignored', reason: 'tag-push', detail: "tag 'v1.0.0' was pushed" },
  },
  {
    name: 'gitlab head commit is the one whose id is after, whatever its position',
    provider: 'gitlab',
    body: variant('gitlab-push', (b) => (b.commits = (b.commits as unknown[]).reverse())),
    expected: { kind: 'push', prNumber: 17 },
  },
  {
    name: 'gitlab push whose head commit was cut from the list',
    provider: 'gitlab',
    body: variant('gitlab-push', (b) => (b.commits = (b.commits as unknown[]).slice(0, 1))),
    expected: { kind: 'push', headCommit: undefined, prNumber: undefined },
  },
  {
    name: 'gitlab pusher falls back to user_name',
    provider: 'gitlab',
    body: variant('gitlab-push', (b) => delete b.user_username),
    expected: { kind: 'push', pusher: 'John Smith' },
  },
  {
    name: 'gitea push from an older version without head_commit',
    provider: 'gitea',
    body: variant('gitea-push', (b) => delete b.head_commit),
    expected: { kind: 'push', prNumber: 7 },
  },
  {
    name: 'gitea push with zero after is a deletion',
    provider: 'gitea',
    body: variant('gitea-push', (b) =>
      Object.assign(b, { after: ZERO, head_commit: null, commits: [] }),
    ),
    expected: { kind: 'ignored', reason: 'branch-deletion' },
  },
  {
    name: 'untrusted names in details are cleaned and capped',
    provider: 'github',
    body: variant('github-push', (b) => (b.ref = `refs/tags/v1\n${'x'.repeat(200)}`)),
    expected: {
      kind: 'ignored',
      reason: 'tag-push',
      detail: `tag 'v1?${'x'.repeat(97)}…' was pushed`,
    },
  },
  {
    name: 'gitea tag deletion is unsupported',
    provider: 'gitea',
    event: 'delete',
    body: variant('gitea-branch-delete', (b) =>
      Object.assign(b, { ref: 'v1.0.0', ref_type: 'tag' }),
    ),
    expected: { kind: 'ignored', reason: 'unsupported-event' },
  },
];

describe('parseWebhook on variations', () => {
  it.each(VARIANTS)('$name', ({ provider, body, event, expected }) => {
    const headers = signWebhook(provider, body, 'secret', event === undefined ? {} : { event });
    const parsed = parseWebhook(provider, headers, body);
    // `undefined` in an expectation means "absent": optional fields are omitted, never undefined.
    const present = Object.entries(expected).filter(([, v]) => v !== undefined);
    expect(parsed).toMatchObject(Object.fromEntries(present));
    for (const [key, value] of Object.entries(expected)) {
      if (value === undefined) expect(parsed).not.toHaveProperty(key);
    }
  });

  it('reads a GitHub form-encoded delivery', () => {
    const json = raw('github-push').toString('utf8');
    const body = Buffer.from(new URLSearchParams({ payload: json }).toString());
    const headers = {
      ...signWebhook('github', body, 'secret'),
      'content-type': 'application/x-www-form-urlencoded',
    };
    expect(parseWebhook('github', headers, body)).toMatchObject({ kind: 'push', prNumber: 42 });
  });

  it('accepts a form delivery its caller already decoded to JSON', () => {
    const body = raw('gitea-push');
    const headers = {
      ...signWebhook('gitea', body, 'secret'),
      'content-type': 'application/x-www-form-urlencoded',
    };
    expect(parseWebhook('gitea', headers, body)).toMatchObject({ kind: 'push', prNumber: 7 });
  });

  it('tolerates a byte-order mark', () => {
    const body = Buffer.concat([Buffer.from('\uFEFF'), raw('gitea-push')]);
    const headers = signWebhook('gitea', body, 'secret');
    expect(parseWebhook('gitea', headers, body)).toMatchObject({ kind: 'push' });
  });
});
