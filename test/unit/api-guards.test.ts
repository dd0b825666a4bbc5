import { describe, expect, it } from 'vitest';
import { originAllowed, originOf, rateKey } from '../../src/api/guards.js';

describe('originAllowed', () => {
  const own = { protocol: 'http', host: '127.0.0.1:8700' };
  const cases: [string, string | undefined, string | undefined, boolean][] = [
    ['no Origin (CLI, curl) passes', undefined, undefined, true],
    ['the same origin passes', 'http://127.0.0.1:8700', undefined, true],
    ['another port is another origin', 'http://127.0.0.1:8701', undefined, false],
    ['another scheme is another origin', 'https://127.0.0.1:8700', undefined, false],
    ['a foreign site is refused', 'https://evil.example', undefined, false],
    ['"null" (sandboxed frames, file://) is refused', 'null', undefined, false],
    ['garbage is refused', 'not a url', undefined, false],
    [
      'the configured public URL passes',
      'https://gantry.example.com',
      'https://gantry.example.com',
      true,
    ],
    [
      'a look-alike of the public URL is refused',
      'https://gantry.example.com.evil',
      'https://gantry.example.com',
      false,
    ],
  ];
  for (const [name, origin, pub, want] of cases) {
    it(name, () => expect(originAllowed(origin, own, pub ? originOf(pub) : undefined)).toBe(want));
  }
  it('without a Host header only the public URL can match', () => {
    expect(
      originAllowed('http://127.0.0.1:8700', { protocol: 'http', host: undefined }, undefined),
    ).toBe(false);
  });
});

describe('rateKey', () => {
  it('buckets by token without keeping the token', () => {
    const k = rateKey({ headers: { authorization: 'Bearer s3cret' }, ip: '10.0.0.1' });
    expect(k).toMatch(/^t:[0-9a-f]{32}$/);
    expect(k).not.toContain('s3cret');
    expect(rateKey({ headers: { authorization: 'Bearer other' }, ip: '10.0.0.1' })).not.toBe(k);
  });
  it('buckets by address without a token', () => {
    expect(rateKey({ headers: {}, ip: '10.0.0.1' })).toBe('ip:10.0.0.1');
  });
});
