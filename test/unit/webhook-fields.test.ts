import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GantryError } from '../../src/errors.js';
import {
  parseWebhook,
  signWebhook,
  type Headers,
  type Provider,
} from '../../src/source/webhooks/index.js';

type Json = Record<string, unknown>;

const fixture = (name: string): Json =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8'),
  ) as Json;

/** The nested object at `path` of a body, for edits deep inside a fixture. */
const at = (body: Json, ...path: string[]): Json =>
  path.reduce<Json>((obj, key) => obj[key] as Json, body);

interface Case {
  name: string;
  provider: Provider;
  /** The body to send: a fixture edited in place, or raw bytes. */
  body: Buffer;
  headers?: (signed: Headers) => Headers;
  message: string;
  field?: string;
}

const edited = (name: string, edit: (b: Json) => unknown): Buffer => {
  const body = fixture(name);
  edit(body);
  return Buffer.from(JSON.stringify(body));
};

const CASES: Case[] = [
  // The body itself.
  {
    name: 'body is not JSON',
    provider: 'github',
    body: Buffer.from('ref=refs/heads/main'),
    message: 'github: body is not valid JSON',
  },
  {
    name: 'body is a JSON array',
    provider: 'gitlab',
    body: Buffer.from('[]'),
    message: 'gitlab: body must be a JSON object, got an array',
  },
  {
    name: 'body is JSON null',
    provider: 'gitea',
    body: Buffer.from('null'),
    message: 'gitea: body must be a JSON object, got null',
  },
  {
    name: 'empty body',
    provider: 'github',
    body: Buffer.alloc(0),
    message: 'github: body is not valid JSON',
  },
  {
    name: 'form body without payload field',
    provider: 'github',
    body: Buffer.from('foo=bar'),
    headers: (h) => ({ ...h, 'content-type': 'application/x-www-form-urlencoded' }),
    message: "github: form body has no 'payload' field",
  },
  // Headers.
  {
    name: 'github event header missing',
    provider: 'github',
    body: edited('github-push', () => undefined),
    headers: (h) => ({ ...h, 'x-github-event': undefined }),
    message: "github: header 'x-github-event' is missing",
  },
  {
    name: 'gitlab event header missing',
    provider: 'gitlab',
    body: edited('gitlab-push', () => undefined),
    headers: (h) => ({ ...h, 'x-gitlab-event': undefined }),
    message: "gitlab: header 'x-gitlab-event' is missing",
  },
  {
    name: 'gitea event header missing',
    provider: 'gitea',
    body: edited('gitea-push', () => undefined),
    headers: (h) => ({ ...h, 'x-gitea-event': undefined }),
    message: "gitea: header 'x-gitea-event' is missing",
  },
  // GitHub push fields.
  {
    name: 'github repository missing',
    provider: 'github',
    body: edited('github-push', (b) => delete b.repository),
    message: "github push: field 'repository' is missing",
    field: 'repository',
  },
  {
    name: 'github repository is a string',
    provider: 'github',
    body: edited('github-push', (b) => (b.repository = 'acme/hello')),
    message: 'github push: field \'repository\' must be an object, got a string "acme/hello"',
  },
  {
    name: 'github repository.full_name is a number',
    provider: 'github',
    body: edited('github-push', (b) => (at(b, 'repository').full_name = 5)),
    message: "github push: field 'repository.full_name' must be a string, got a number (5)",
    field: 'repository.full_name',
  },
  {
    name: 'github repository.full_name is empty',
    provider: 'github',
    body: edited('github-push', (b) => (at(b, 'repository').full_name = '')),
    message: "github push: field 'repository.full_name' must not be empty",
  },
  {
    name: 'github repository.clone_url missing',
    provider: 'github',
    body: edited('github-push', (b) => delete at(b, 'repository').clone_url),
    message: "github push: field 'repository.clone_url' is missing",
  },
  {
    name: 'github repository.ssh_url mistyped',
    provider: 'github',
    body: edited('github-push', (b) => (at(b, 'repository').ssh_url = ['git@github.com:a/b.git'])),
    message: "github push: field 'repository.ssh_url' must be a string, got an array",
  },
  {
    name: 'github ref missing',
    provider: 'github',
    body: edited('github-push', (b) => delete b.ref),
    message: "github push: field 'ref' is missing",
    field: 'ref',
  },
  {
    name: 'github ref is a boolean',
    provider: 'github',
    body: edited('github-push', (b) => (b.ref = true)),
    message: "github push: field 'ref' must be a string, got a boolean (true)",
  },
  {
    name: "github branch containing '..'",
    provider: 'github',
    body: edited('github-push', (b) => (b.ref = 'refs/heads/a..b')),
    message: 'github push: field \'ref\' must name a valid branch: the name must not contain ".."',
  },
  {
    name: 'github empty branch name',
    provider: 'github',
    body: edited('github-push', (b) => (b.ref = 'refs/heads/')),
    message: "github push: field 'ref' must name a valid branch: the name must not be empty",
  },
  {
    name: 'github after is not a SHA',
    provider: 'github',
    body: edited('github-push', (b) => (b.after = 'abc123')),
    message:
      'github push: field \'after\' must be a 40- or 64-hex commit SHA, got a string "abc123"',
    field: 'after',
  },
  {
    name: 'github after missing',
    provider: 'github',
    body: edited('github-push', (b) => delete b.after),
    message: "github push: field 'after' must be a 40- or 64-hex commit SHA, it is missing",
  },
  {
    name: 'github before is a number',
    provider: 'github',
    body: edited('github-push', (b) => (b.before = 0)),
    message: "github push: field 'before' must be a 40- or 64-hex commit SHA, got a number (0)",
  },
  {
    name: 'github before has 41 hex digits',
    provider: 'github',
    body: edited('github-push', (b) => (b.before = 'a'.repeat(41))),
    message: "github push: field 'before' must be a 40- or 64-hex commit SHA",
  },
  {
    name: 'github deleted is a string',
    provider: 'github',
    body: edited('github-push', (b) => (b.deleted = 'false')),
    message: 'github push: field \'deleted\' must be a boolean, got a string "false"',
  },
  {
    name: 'github head_commit is an array',
    provider: 'github',
    body: edited('github-push', (b) => (b.head_commit = [])),
    message: "github push: field 'head_commit' must be an object, got an array",
  },
  {
    name: 'github head_commit.id is not a SHA',
    provider: 'github',
    body: edited('github-push', (b) => (at(b, 'head_commit').id = 'HEAD')),
    message: "github push: field 'head_commit.id' must be a 40- or 64-hex commit SHA",
  },
  {
    name: 'github head_commit.message missing',
    provider: 'github',
    body: edited('github-push', (b) => delete at(b, 'head_commit').message),
    message: "github push: field 'head_commit.message' is missing",
  },
  // GitLab push fields.
  {
    name: 'gitlab project missing',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => delete b.project),
    message: "gitlab push: field 'project' is missing",
  },
  {
    name: 'gitlab project.path_with_namespace missing',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => delete at(b, 'project').path_with_namespace),
    message: "gitlab push: field 'project.path_with_namespace' is missing",
  },
  {
    name: 'gitlab project.git_http_url is null',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => (at(b, 'project').git_http_url = null)),
    message: "gitlab push: field 'project.git_http_url' is missing",
  },
  {
    name: 'gitlab object_kind of another event',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => (b.object_kind = 'merge_request')),
    message:
      "gitlab push: field 'object_kind' must be 'push' in a Push Hook, got \"merge_request\"",
  },
  {
    name: 'gitlab before is not a SHA',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => (b.before = 'g'.repeat(40))),
    message: "gitlab push: field 'before' must be a 40- or 64-hex commit SHA",
  },
  {
    name: 'gitlab commits is an object',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => (b.commits = {})),
    message: "gitlab push: field 'commits' must be an array, got an object",
  },
  {
    name: 'gitlab commits element is a string',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => (b.commits = ['x'])),
    message: 'gitlab push: field \'commits[0]\' must be an object, got a string "x"',
  },
  {
    name: 'gitlab head commit message mistyped',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => ((b.commits as Json[])[1]!.message = 42)),
    message: "gitlab push: field 'commits[1].message' must be a string, got a number (42)",
  },
  {
    name: 'gitlab branch with a space',
    provider: 'gitlab',
    body: edited('gitlab-push', (b) => (b.ref = 'refs/heads/my branch')),
    message: "gitlab push: field 'ref' must name a valid branch: the name must not contain spaces",
  },
  // Gitea push fields.
  {
    name: 'gitea repository missing',
    provider: 'gitea',
    body: edited('gitea-push', (b) => delete b.repository),
    message: "gitea push: field 'repository' is missing",
  },
  {
    name: 'gitea repository.clone_url is a number',
    provider: 'gitea',
    body: edited('gitea-push', (b) => (at(b, 'repository').clone_url = 1)),
    message: "gitea push: field 'repository.clone_url' must be a string, got a number (1)",
  },
  {
    name: 'gitea after missing',
    provider: 'gitea',
    body: edited('gitea-push', (b) => delete b.after),
    message: "gitea push: field 'after' must be a 40- or 64-hex commit SHA, it is missing",
  },
  {
    name: 'gitea head_commit.id mistyped',
    provider: 'gitea',
    body: edited('gitea-push', (b) => (at(b, 'head_commit').id = null)),
    message: "gitea push: field 'head_commit.id' must be a 40- or 64-hex commit SHA, got null",
  },
  {
    name: 'gitea branch ending in .lock',
    provider: 'gitea',
    body: edited('gitea-push', (b) => (b.ref = 'refs/heads/feature.lock')),
    message:
      'gitea push: field \'ref\' must name a valid branch: the name must not have a part ending with ".lock"',
  },
];

describe('parseWebhook payload errors name the field', () => {
  it.each(CASES)('$name', ({ provider, body, headers, message, field }) => {
    const signed = signWebhook(provider, body, 'secret');
    let thrown: unknown;
    try {
      parseWebhook(provider, headers ? headers(signed) : signed, body);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GantryError);
    const error = thrown as GantryError;
    expect(error.code).toBe('GANTRY_ERR_WEBHOOK_PAYLOAD');
    expect(error.status).toBe(400);
    expect(error.message.startsWith(message)).toBe(true);
    if (field !== undefined) expect(error.details).toEqual({ field });
  });

  it('rejects an unknown provider with a payload error', () => {
    expect(() => parseWebhook('bitbucket' as Provider, {}, Buffer.from('{}'))).toThrow(
      "unknown webhook provider 'bitbucket'",
    );
  });
});
