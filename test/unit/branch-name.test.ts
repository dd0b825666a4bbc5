import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import {
  assertBranchName,
  branchNameProblem,
  isValidBranchName,
  shortBranchNameProblem,
} from '../../src/git/branch-name.js';

/** git itself, the reference implementation; run with an argv array, outside any repository. */
function gitAccepts(name: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--branch', name], {
      stdio: 'ignore',
      cwd: '/',
      env: { PATH: process.env.PATH ?? '' },
    });
    return true;
  } catch {
    return false;
  }
}

describe('branch names', () => {
  const cases: Array<[name: string, valid: boolean]> = [
    ['main', true],
    ['feature/login', true],
    ['release-1.2', true],
    ['a./b', true],
    ['refs/heads/x', true],
    ['x.lock.y', true],
    ['a@b', true],
    ['HEAD/x', true],
    ['é', true],
    ['', false],
    ['-x', false],
    ['HEAD', false],
    ['a..b', false],
    ['a.lock', false],
    ['a/b.lock/c', false],
    ['.a', false],
    ['a/.b', false],
    ['a/./b', false],
    ['a/', false],
    ['/a', false],
    ['a//b', false],
    ['a.', false],
    ['a@{b', false],
    ['@{-1}', false],
    ['a b', false],
    ['a\tb', false],
    ['a\\b', false],
    ['a:b', false],
    ['a~1', false],
    ['a^', false],
    ['a?', false],
    ['a*', false],
    ['a[b', false],
    ['a\x7f', false],
    ['$(touch /tmp/x)', false],
  ];
  it.each(cases)('%j valid=%s', (name, valid) => {
    expect(isValidBranchName(name)).toBe(valid);
    if (valid) expect(assertBranchName(name)).toBe(name);
    else
      expect(() => assertBranchName(name)).toThrow(
        expect.objectContaining({ code: 'GANTRY_ERR_REF_INVALID' }),
      );
  });

  it('agrees with the table when git is asked', () => {
    for (const [name, valid] of cases) {
      if (name === '') continue; // git reads an empty argv entry differently (usage error)
      expect([name, gitAccepts(name)]).toEqual([name, valid]);
    }
  });

  it('agrees with `git check-ref-format --branch` on random names', () => {
    const char = fc.constantFrom(...'ab/.-@{}~^:?*[\\ lockHEAD\x01é'.split(''));
    fc.assert(
      fc.property(
        fc.array(char, { minLength: 1, maxLength: 10 }).map((cs) => cs.join('')),
        (name) => {
          fc.pre(name !== '@'); // deliberately refused: git reads a lone "@" as HEAD in a repository
          expect(isValidBranchName(name)).toBe(gitAccepts(name));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names the problem and carries the code', () => {
    try {
      assertBranchName('a..b');
      expect.unreachable();
    } catch (e) {
      expect(isGantryError(e, 'GANTRY_ERR_REF_INVALID')).toBe(true);
      expect((e as Error).message).toBe('invalid branch name "a..b": must not contain ".."');
    }
  });
});

describe('branchNameProblem', () => {
  it.each([
    'main',
    'release/1.2',
    'release/2024.05',
    'feature/JIRA-12_x',
    'v1.0',
    'a.b/c-d',
    'a-b_c+d',
    'deps@2',
    'user@example',
    'ünïcode',
    'refs/heads/main',
  ])('accepts %j', (name) => {
    expect(branchNameProblem(name)).toBeUndefined();
  });

  it.each<{ name: string; problem: string }>([
    { name: '', problem: 'must not be empty' },
    { name: 'a..b', problem: 'must not contain ".."' },
    { name: 'my branch', problem: 'must not contain spaces' },
    { name: '-main', problem: 'must not start with "-"' },
    { name: 'a~1', problem: 'must not contain "~"' },
    { name: 'a^', problem: 'must not contain "^"' },
    { name: 'a:b', problem: 'must not contain ":"' },
    { name: 'a?', problem: 'must not contain "?"' },
    { name: 'a*', problem: 'must not contain "*"' },
    { name: 'a[1]', problem: 'must not contain "["' },
    { name: 'a\\b', problem: 'must not contain "\\"' },
    { name: 'a\tb', problem: 'must not contain control characters (U+0009)' },
    { name: 'a\u0000b', problem: 'must not contain control characters (U+0000)' },
    { name: 'a\u007fb', problem: 'must not contain control characters (U+007F)' },
    { name: 'main.lock', problem: 'must not have a part ending with ".lock"' },
    { name: 'x.lock/y', problem: 'must not have a part ending with ".lock"' },
    { name: 'feature/', problem: 'must not start or end with "/" or contain "//"' },
    { name: '/main', problem: 'must not start or end with "/" or contain "//"' },
    { name: 'a//b', problem: 'must not start or end with "/" or contain "//"' },
    { name: 'main.', problem: 'must not end with "."' },
    { name: '.hidden', problem: 'must not have a part starting with "."' },
    { name: 'a/.b', problem: 'must not have a part starting with "."' },
    { name: 'a@{1}', problem: 'must not contain "@{"' },
    { name: '@', problem: 'must not be "@"' },
    { name: 'HEAD', problem: 'must not be "HEAD"' },
  ])('rejects $name: $problem', ({ name, problem }) => {
    expect(branchNameProblem(name)).toBe(problem);
  });
});

describe('shortBranchNameProblem', () => {
  it.each<{ name: string; problem: string | undefined }>([
    { name: 'main', problem: undefined },
    { name: 'feature/refs/x', problem: undefined },
    {
      name: 'refs/heads/main',
      problem: 'must be a branch name, not a full ref (drop "refs/heads/")',
    },
    { name: 'refs/tags/v1', problem: 'must be a branch name, not a full ref (drop "refs/heads/")' },
    // git's own rules come first: they hold whatever the prefix.
    { name: 'refs/heads/a..b', problem: 'must not contain ".."' },
  ])('$name → $problem', ({ name, problem }) => {
    expect(shortBranchNameProblem(name)).toBe(problem);
  });
});
