import { describe, expect, it } from 'vitest';
import { execDetail, httpDetail, lastLine, networkReason } from '../../src/health/detail.js';

describe('probe details', () => {
  it.each([
    { got: httpDetail('/healthz', 200, 200, 3), want: 'GET /healthz → 200 after 3 ms' },
    {
      got: httpDetail('/healthz', 503, 200, 12),
      want: 'GET /healthz → 503 after 12 ms (expected 200)',
    },
    { got: execDetail(0, ''), want: 'exit 0' },
    { got: execDetail(1, 'starting\nboom: db down\n\n'), want: 'exit 1: boom: db down' },
    { got: lastLine(`${'x'.repeat(300)}\n`, 10), want: 'xxxxxxxxx…' },
  ])('$want', ({ got, want }) => {
    expect(got).toBe(want);
  });

  it('names a network failure by the errno code of its cause', () => {
    const wrapped = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });
    expect(networkReason(wrapped)).toBe('ECONNREFUSED');
    const closed = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    expect(networkReason(closed)).toBe('other side closed');
  });
});
