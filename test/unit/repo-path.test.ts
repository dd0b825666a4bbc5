import { describe, expect, it } from 'vitest';
import {
  isSafeEntryName,
  joinRepoPath,
  normalizeRepoPath,
  resolveSymlink,
} from '../../src/source/repo-path.js';

describe('normalizeRepoPath', () => {
  it.each([
    ['a/b', 'a/b'],
    ['./a//b/', 'a/b'],
    ['.', ''],
    ['', ''],
    ['gantry.yaml', 'gantry.yaml'],
  ])('%j → %j', (input, out) => expect(normalizeRepoPath(input)).toBe(out));

  it.each(['/etc/passwd', '..', '../x', 'a/../b', 'a/..', 'a\0b'])('refuses %j', (input) => {
    expect(() => normalizeRepoPath(input)).toThrow(
      expect.objectContaining({ code: 'GANTRY_ERR_PATH_ESCAPE' }),
    );
  });

  it('joins onto the root', () => {
    expect(joinRepoPath('', 'a')).toBe('a');
    expect(joinRepoPath('a', 'b')).toBe('a/b');
  });
});

describe('isSafeEntryName', () => {
  it.each([
    ['file', true],
    ['.env', true],
    ['.gitignore', true],
    ['', false],
    ['.', false],
    ['..', false],
    ['.git', false],
    ['.GIT', false],
    ['a/b', false],
    ['a\\b', false],
    ['a\0', false],
  ])('%j safe=%s', (name, safe) => expect(isSafeEntryName(name)).toBe(safe));
});

describe('resolveSymlink', () => {
  const none = new Map<string, string>();
  it.each([
    ['sibling', 'link', 'target', none, { ok: true, path: 'target' }],
    ['into a subdirectory', 'a/link', 'b/c', none, { ok: true, path: 'a/b/c' }],
    ['up but inside', 'a/b/link', '../../x', none, { ok: true, path: 'x' }],
    ['the root itself', 'link', '.', none, { ok: true, path: '' }],
    ['one level out', 'link', '../x', none, { ok: false, reason: 'outside' }],
    ['out from a subdirectory', 'a/link', '../../x', none, { ok: false, reason: 'outside' }],
    ['absolute', 'link', '/etc/passwd', none, { ok: false, reason: 'absolute' }],
    ['out and back in lexically', 'link', '../ctx/x', none, { ok: false, reason: 'outside' }],
    // `up -> .` is harmless, but `x -> up/..` then names the root's parent.
    [
      'through an in-context link',
      'x',
      'up/..',
      new Map([['up', '.']]),
      { ok: false, reason: 'outside' },
    ],
    [
      'through a link to a subdirectory',
      'x',
      'deep/../y',
      new Map([['deep', 'a/b']]),
      { ok: true, path: 'a/y' },
    ],
    [
      'through an absolute link',
      'x',
      'abs/y',
      new Map([['abs', '/etc']]),
      { ok: false, reason: 'absolute' },
    ],
    [
      'a loop',
      'x',
      'l1',
      new Map([
        ['l1', 'l2'],
        ['l2', 'l1'],
        ['x', 'l1'],
      ]),
      { ok: false, reason: 'loop' },
    ],
  ] as const)('%s', (_name, link, target, links, expected) => {
    expect(resolveSymlink(link, target, links)).toEqual(expected);
  });
});
