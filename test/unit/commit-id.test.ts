import { describe, expect, it } from 'vitest';
import { assertSha, isSha } from '../../src/git/commit-id.js';

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
