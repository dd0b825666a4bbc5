import { describe, expect, it } from 'vitest';
import { parseCgiHead } from '../../src/demo/git-http-server.js';

describe('parseCgiHead', () => {
  it('defaults to 200 and keeps headers', () => {
    expect(
      parseCgiHead(
        'Content-Type: application/x-git-upload-pack-advertisement\r\nCache-Control: no-cache',
      ),
    ).toEqual({
      status: 200,
      statusText: undefined,
      headers: {
        'Content-Type': 'application/x-git-upload-pack-advertisement',
        'Cache-Control': 'no-cache',
      },
    });
  });
  it('takes the status from a Status line', () => {
    const head = parseCgiHead('Status: 404 Not Found\nExpires: Fri, 01 Jan 1980 00:00:00 GMT');
    expect(head.status).toBe(404);
    expect(head.statusText).toBe('Not Found');
    expect(head.headers).toEqual({ Expires: 'Fri, 01 Jan 1980 00:00:00 GMT' });
  });
  it('keeps repeated headers', () => {
    expect(parseCgiHead('Vary: a\nVary: b').headers).toEqual({ Vary: ['a', 'b'] });
  });
});
