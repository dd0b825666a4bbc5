import { describe, expect, it } from 'vitest';
import { isApiRoute, originAllowed, originOf, rateSubject } from '../../src/api/guards.js';

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

describe('rateSubject', () => {
  it('buckets an authenticated caller by token name, whatever the header looked like', () => {
    expect(rateSubject({ name: 'ci' }, '10.0.0.1')).toBe('token:ci');
    expect(rateSubject({ name: 'ci' }, '10.0.0.2')).toBe('token:ci');
  });
  it('buckets everyone else by address, so junk tokens share their sender’s bucket', () => {
    expect(rateSubject(undefined, '10.0.0.1')).toBe('addr:10.0.0.1');
  });
  it('buckets an IPv6 client by its /64 and a mapped IPv4 as IPv4', () => {
    expect(rateSubject(undefined, '2001:db8:1:2:aaaa::1')).toBe(
      rateSubject(undefined, '2001:db8:1:2:bbbb::9'),
    );
    expect(rateSubject(undefined, '::ffff:10.0.0.1')).toBe('addr:10.0.0.1');
  });
});

describe('isApiRoute', () => {
  it.each([
    ['/api/apps', true],
    ['/api/apps/:app', true],
    ['/api', true],
    ['/apix', false],
    ['/webhooks/:provider', false],
    ['/healthz', false],
    ['/', false],
    [undefined, false],
  ] as const)('%s → %s', (url, want) => expect(isApiRoute(url)).toBe(want));
});
