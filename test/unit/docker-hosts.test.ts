import { describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import { dockerOptions, validateHosts } from '../../src/runtime/docker/hosts.js';

describe('dockerOptions', () => {
  it.each([
    { endpoint: 'unix:///var/run/docker.sock', want: { socketPath: '/var/run/docker.sock' } },
    { endpoint: 'unix:///tmp/gd2-x/docker.sock', want: { socketPath: '/tmp/gd2-x/docker.sock' } },
    { endpoint: 'tcp://127.0.0.1:2375', want: { protocol: 'http', host: '127.0.0.1', port: 2375 } },
    {
      endpoint: 'tcp://docker-2.internal:2376/',
      want: { protocol: 'http', host: 'docker-2.internal', port: 2376 },
    },
    { endpoint: 'tcp://[::1]:2375', want: { protocol: 'http', host: '::1', port: 2375 } },
  ])('$endpoint', ({ endpoint, want }) => {
    expect(dockerOptions({ name: 'h', endpoint })).toEqual(want);
  });

  it('uses https with the TLS material when given', () => {
    const tls = { ca: 'CA', cert: 'CERT', key: 'KEY' };
    expect(dockerOptions({ name: 'h', endpoint: 'tcp://10.0.0.2:2376', tls })).toEqual({
      protocol: 'https',
      host: '10.0.0.2',
      port: 2376,
      ...tls,
    });
  });

  it.each([
    'unix://relative.sock',
    'tcp://127.0.0.1',
    'tcp://127.0.0.1:99999',
    'ssh://user@host',
    'http://127.0.0.1:2375',
    '/var/run/docker.sock',
  ])('rejects %s as a config error', (endpoint) => {
    let caught: unknown;
    try {
      dockerOptions({ name: 'h', endpoint });
    } catch (e) {
      caught = e;
    }
    expect(isGantryError(caught, 'GANTRY_ERR_CONFIG_INVALID')).toBe(true);
  });
});

describe('validateHosts', () => {
  it('needs one host and unique names', () => {
    expect(() => validateHosts([])).toThrow(/at least one host/);
    const h = { name: 'a', endpoint: 'unix:///x.sock' };
    expect(() => validateHosts([h, h])).toThrow(/listed twice/);
    expect(() => validateHosts([h, { name: 'b c', endpoint: 'unix:///y.sock' }])).toThrow(
      /host name/,
    );
    expect(() => validateHosts([h, { name: 'b', endpoint: 'unix:///y.sock' }])).not.toThrow();
  });
});
