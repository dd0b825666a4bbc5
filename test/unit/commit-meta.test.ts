import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prNumberFromMessage } from '../../src/source/commit-meta.js';

const CASES: { name: string; message: string; expected: number | undefined }[] = [
  // GitHub
  {
    name: 'github merge commit',
    message: 'Merge pull request #12 from acme/feature-x\n\nAdd feature X',
    expected: 12,
  },
  { name: 'github squash merge', message: 'Add feature X (#12)', expected: 12 },
  {
    name: 'github squash merge with body',
    message: 'Add feature X (#12)\n\n* first commit\n* fixes #3',
    expected: 12,
  },
  {
    name: 'squash subject with trailing whitespace',
    message: 'Add feature X (#12)  \r\n\r\nbody',
    expected: 12,
  },
  { name: 'squash without a space before the number', message: 'Add feature X(#12)', expected: 12 },
  {
    name: 'revert of a squash merge, itself squashed',
    message: 'Revert "Add X (#12)" (#13)',
    expected: 13,
  },
  {
    name: 'revert of a squash merge, not via a PR',
    message: 'Revert "Add X (#12)"',
    expected: undefined,
  },
  // Gitea
  {
    name: 'gitea merge commit',
    message:
      "Merge pull request 'Add feature X' (#7) from alice/feature-x into main\n\nReviewed-on: https://gitea.example.com/acme/hello/pulls/7",
    expected: 7,
  },
  {
    name: 'gitea squash merge',
    message: 'Add feature X (#7)\n\nReviewed-on: https://gitea.example.com/acme/hello/pulls/7\n',
    expected: 7,
  },
  // GitLab
  {
    name: 'gitlab merge commit',
    message:
      "Merge branch 'feature-x' into 'main'\n\nAdd feature X\n\nSee merge request acme/platform/hello!17\n",
    expected: 17,
  },
  {
    name: 'gitlab merge commit with closes trailer',
    message:
      "Merge branch 'feature-x' into 'main'\n\nAdd feature X\n\nCloses #4\n\nSee merge request acme/hello!17",
    expected: 17,
  },
  {
    name: 'old gitlab trailer without project path',
    message: "Merge branch 'x' into 'main'\n\nSee merge request !9",
    expected: 9,
  },
  {
    name: 'gitlab trailer with CRLF line endings',
    message: "Merge branch 'x'\r\n\r\nSee merge request g/p!21\r\n",
    expected: 21,
  },
  // Not pull requests
  { name: 'issue reference mid-sentence', message: 'fixes #12', expected: undefined },
  {
    name: 'issue reference in subject',
    message: 'Handle empty body, see #12 for details',
    expected: undefined,
  },
  {
    name: 'parenthesised number mid-subject',
    message: 'Fix (#12) crash in parser',
    expected: undefined,
  },
  {
    name: 'squash marker only in the body',
    message: 'Tidy up\n\nFollow-up to Add X (#12)',
    expected: undefined,
  },
  {
    name: 'merge request mention mid-line',
    message: 'Tidy up\n\nAs noted in See merge request g/p!3 earlier',
    expected: undefined,
  },
  { name: 'plain commit', message: 'Bump dependencies', expected: undefined },
  { name: 'empty message', message: '', expected: undefined },
  { name: 'PR number zero', message: 'Title (#0)', expected: undefined },
  { name: 'absurdly long number', message: 'Title (#12345678901234567890)', expected: undefined },
  {
    name: 'merge of a branch without PR',
    message: "Merge branch 'main' into feature-x",
    expected: undefined,
  },
  {
    name: 'merge pull request text without number',
    message: 'Merge pull request from fork',
    expected: undefined,
  },
];

describe('prNumberFromMessage', () => {
  it.each(CASES)('$name', ({ message, expected }) => {
    expect(prNumberFromMessage(message)).toBe(expected);
  });

  it('returns a positive safe integer or undefined for any message', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (message) => {
        const n = prNumberFromMessage(message);
        return n === undefined || (Number.isSafeInteger(n) && n > 0);
      }),
    );
  });

  // A backtracking pattern would hang on these until the test timeout; no clock is asserted.
  it('answers on hostile, very long subjects', () => {
    const hostile = [
      `${'a '.repeat(200_000)}(#`,
      `${'x'.repeat(400_000)}(#1`,
      `Merge pull request '${"'".repeat(200_000)}`,
    ];
    for (const message of hostile) expect(prNumberFromMessage(message)).toBeUndefined();
  });
});
