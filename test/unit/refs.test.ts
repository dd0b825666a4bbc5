import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import { assertBranchName, assertSha, isSha, isValidBranchName } from '../../src/source/refs.js';

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
      expect((e as Error).message).toContain('"a..b"');
    }
  });
});

describe('commit ids', () => {
  it.each([
    ['a'.repeat(40), true],
    ['0123456789abcdef'.repeat(4), true],
    ['A'.repeat(40), false],
    ['a'.repeat(39), false],
    ['a'.repeat(41), false],
    ['g'.repeat(40), false],
    ['HEAD', false],
    [`${'a'.repeat(40)}\n`, false],
  ])('%j valid=%s', (s, valid) => {
    expect(isSha(s)).toBe(valid);
    if (valid) expect(assertSha(s)).toBe(s);
    else
      expect(() => assertSha(s)).toThrow(
        expect.objectContaining({ code: 'GANTRY_ERR_REF_INVALID' }),
      );
  });
});
