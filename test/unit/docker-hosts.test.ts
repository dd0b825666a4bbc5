import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import { dialAddress } from '../../src/health/dial-address.js';
import {
  clientOptions,
  dockerOptions,
  hostAddress,
  readTls,
  validateHosts,
  type DockerHostConfig,
} from '../../src/runtime/docker/hosts.js';

function configError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isGantryError(e, 'GANTRY_ERR_CONFIG_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a config error');
}

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

  it('uses https when TLS files are given', () => {
    const tls = { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' };
    expect(dockerOptions({ name: 'h', endpoint: 'tcp://10.0.0.2:2376', tls })).toEqual({
      protocol: 'https',
      host: '10.0.0.2',
      port: 2376,
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

describe('hostAddress', () => {
  it.each<{ name: string; host: Omit<DockerHostConfig, 'name'>; want: string }>([
    {
      name: 'a Unix socket: loopback',
      host: { endpoint: 'unix:///var/run/docker.sock' },
      want: '127.0.0.1',
    },
    { name: 'tcp: its IP', host: { endpoint: 'tcp://10.250.1.2:2376' }, want: '10.250.1.2' },
    {
      name: 'tcp on localhost: loopback',
      host: { endpoint: 'tcp://localhost:2375' },
      want: '127.0.0.1',
    },
    { name: 'tcp IPv6: its IP', host: { endpoint: 'tcp://[fd00::2]:2376' }, want: 'fd00::2' },
    {
      name: 'tcp by name: the address given',
      host: { endpoint: 'tcp://docker-2.internal:2376', address: '10.0.0.7' },
      want: '10.0.0.7',
    },
    {
      name: 'an address overrides the endpoint’s (a NATed engine)',
      host: { endpoint: 'tcp://203.0.113.9:2376', address: '10.0.0.9' },
      want: '10.0.0.9',
    },
  ])('$name', ({ host, want }) => {
    expect(hostAddress({ name: 'h', ...host })).toBe(want);
  });

  it('needs an IP: ports bind to addresses, not names', () => {
    expect(configError(() => hostAddress({ name: 'h', endpoint: 'tcp://docker-2:2376' }))).toMatch(
      /set "address"/,
    );
    expect(
      configError(() => hostAddress({ name: 'h', endpoint: 'tcp://10.0.0.2:2376', address: 'x' })),
    ).toMatch(/IPv4 or IPv6/);
  });
});

describe('dialAddress', () => {
  it.each([
    [undefined, '127.0.0.1:80'],
    ['10.250.1.2', '10.250.1.2:80'],
    ['fd00::2', '[fd00::2]:80'],
  ])('%s', (address, want) => {
    expect(dialAddress(address, 80)).toBe(want);
  });
});

describe('readTls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-tls-'));
  const pem = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `-----BEGIN ${body}-----\nAAAA\n-----END ${body}-----\n`);
    return path;
  };
  const tls = {
    ca: pem('ca.pem', 'CERTIFICATE'),
    cert: pem('cert.pem', 'CERTIFICATE'),
    key: pem('key.pem', 'PRIVATE KEY'),
  };

  it('reads the three files, and the client sends them over https', () => {
    const host = { name: 'h', endpoint: 'tcp://10.0.0.2:2376', tls };
    expect(readTls(host)?.key.toString()).toContain('BEGIN PRIVATE KEY');
    const options = clientOptions(host);
    expect(options.protocol).toBe('https');
    expect(options.ca?.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('names a missing or wrong file by path, never by content', () => {
    const notPem = join(dir, 'notes.txt');
    writeFileSync(notPem, 'hunter2');
    const host = (key: string): DockerHostConfig => ({
      name: 'h',
      endpoint: 'tcp://10.0.0.2:2376',
      tls: { ...tls, key },
    });
    expect(configError(() => readTls(host(join(dir, 'gone.pem'))))).toMatch(/tls\.key .*gone\.pem/);
    expect(configError(() => readTls(host('/dev/zero')))).toMatch(/not a PEM file/);
    const message = configError(() => readTls(host(notPem)));
    expect(message).toMatch(/not a PEM file/);
    expect(message).not.toContain('hunter2');
  });

  it('applies to tcp endpoints only', () => {
    expect(() => validateHosts([{ name: 'h', endpoint: 'unix:///x.sock', tls }])).toThrow(
      /tcp:\/\/ endpoints only/,
    );
  });
});
