import { describe, expect, it } from 'vitest';
import { redactUrl, splitUrlCredentials } from '../../src/source/remote-url.js';

describe('redactUrl', () => {
  it.each([
    ['https://user:tok@example.com/o/r.git', 'https://example.com/o/r.git'],
    ['https://tok@example.com/o/r.git', 'https://example.com/o/r.git'],
    ['https://example.com/o/r.git', 'https://example.com/o/r.git'],
    ['http://127.0.0.1:8080/app.git', 'http://127.0.0.1:8080/app.git'],
    ['git@github.com:o/r.git', 'git@github.com:o/r.git'],
  ])('%s → %s', (input, out) => expect(redactUrl(input)).toBe(out));
});

describe('splitUrlCredentials', () => {
  it('lifts userinfo out of the URL', () => {
    expect(splitUrlCredentials('https://bob:s%40cret@example.com/r.git')).toEqual({
      url: 'https://example.com/r.git',
      credentials: { username: 'bob', password: 's@cret' },
    });
  });
  it('prefers explicit credentials', () => {
    expect(splitUrlCredentials('https://bob:x@example.com/r.git', { password: 'tok' })).toEqual({
      url: 'https://example.com/r.git',
      credentials: { password: 'tok' },
    });
  });
  it('leaves a clean URL alone', () => {
    expect(splitUrlCredentials('https://example.com/r.git')).toEqual({
      url: 'https://example.com/r.git',
      credentials: undefined,
    });
  });
});
