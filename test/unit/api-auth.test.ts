import { describe, expect, it } from 'vitest';
import { authenticate, hashToken } from '../../src/api/auth.js';
import { normalizeRepoUrl } from '../../src/source/repos.js';

const tokens = [
  { name: 'ci', hash: hashToken('deploy-token'), role: 'deployer' as const },
  { name: 'ops', hash: hashToken('admin-token'), role: 'admin' as const },
];

describe('bearer tokens', () => {
  it.each([
    ['a known token', 'Bearer deploy-token', { name: 'ci', role: 'deployer' }],
    ['the scheme in any case', 'bearer admin-token', { name: 'ops', role: 'admin' }],
    ['an unknown token', 'Bearer nope', undefined],
    ['no scheme', 'deploy-token', undefined],
    ['no header', undefined, undefined],
    ['the stored hash itself', `Bearer ${hashToken('deploy-token')}`, undefined],
  ])('%s', (_name, header, expected) => {
    expect(authenticate(tokens, header)).toEqual(expected);
  });
});

describe('repo URL matching', () => {
  it.each([
    ['https://GitHub.com/acme/app.git', 'github.com/acme/app'],
    ['https://user:pw@github.com/acme/app/', 'github.com/acme/app'],
    ['git@github.com:acme/app.git', 'github.com/acme/app'],
    ['http://127.0.0.1:3000/acme/app.git', '127.0.0.1:3000/acme/app'],
  ])('%s → %s', (url, normal) => {
    expect(normalizeRepoUrl(url)).toBe(normal);
  });
});
