import { describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { pruneLines } from '../../src/cli/commands/registry.js';
import { redactConfig } from '../../src/config/redact.js';
import { isGantryError } from '../../src/errors.js';
import {
  basicAuthorization,
  dockerAuthFor,
  dockerConfigJson,
  isRegistryAuthFailure,
  registryOfImage,
} from '../../src/registry/credentials.js';

const creds = { username: 'ci', password: 'p4ss' };

describe('registryOfImage', () => {
  it.each([
    ['127.0.0.1:5000/hello:abc', '127.0.0.1:5000'],
    ['127.0.0.1:5000/hello@sha256:00', '127.0.0.1:5000'],
    ['ghcr.io/acme/shop:1', 'ghcr.io'],
    ['localhost/x', 'localhost'],
    ['busybox', 'docker.io'],
    ['library/busybox:1', 'docker.io'],
    ['acme/shop', 'docker.io'],
  ])('%s is on %s', (image, want) => {
    expect(registryOfImage(image)).toBe(want);
  });
});

describe('dockerAuthFor', () => {
  const access = { address: 'ghcr.io', credentials: creds };
  it.each([
    [
      'an image of the registry',
      'ghcr.io/acme/shop@sha256:00',
      access,
      { ...creds, serveraddress: 'ghcr.io' },
    ],
    ['an image of another registry', 'docker.io/library/busybox', access, undefined],
    ['a registry host that only starts the same', 'ghcr.io.evil.example/x', access, undefined],
    ['no credentials', 'ghcr.io/acme/shop', { address: 'ghcr.io' }, undefined],
    ['no registry', 'ghcr.io/acme/shop', undefined, undefined],
  ])('%s', (_name, image, reg, want) => {
    expect(dockerAuthFor(image, reg)).toEqual(want);
  });
});

describe('encodings', () => {
  it('writes a dockerconfigjson with the Basic pair', () => {
    expect(JSON.parse(dockerConfigJson('r:5000', creds))).toEqual({
      auths: { 'r:5000': { username: 'ci', password: 'p4ss', auth: 'Y2k6cDRzcw==' } },
    });
    expect(basicAuthorization(creds)).toBe('Basic Y2k6cDRzcw==');
    expect(basicAuthorization(undefined)).toBeUndefined();
  });

  it.each([
    ['unauthorized: authentication required', true],
    ['no basic auth credentials', true],
    ['denied: requested access to the resource is denied', true],
    ['Get "http://r/v2/": dial tcp: connection refused', false],
    ['manifest unknown', false],
  ])('%s is an auth failure: %s', (message, want) => {
    expect(isRegistryAuthFailure(message)).toBe(want);
  });
});

describe('registry credentials in the controller config', () => {
  const REPOS = '\nrepos: []';
  const text = `registry: { address: "r:5000", username: ci, passwordEnv: REG_PW }${REPOS}`;
  it('reads the password from the environment and shows only that it is set', () => {
    const cfg = parseControllerConfig(text, { env: { REG_PW: 'p4ss' } });
    expect(cfg.registry).toMatchObject({ address: 'r:5000', credentials: creds });
    expect(redactConfig(cfg).registry).toMatchObject({
      address: 'r:5000',
      credentials: { username: 'ci', password: '(set)' },
    });
    expect(JSON.stringify(redactConfig(cfg))).not.toContain('p4ss');
  });

  it('keeps the credentials under GANTRY_REGISTRY', () => {
    const cfg = parseControllerConfig(text, { env: { REG_PW: 'p4ss', GANTRY_REGISTRY: 'o:1' } });
    expect(cfg.registry).toMatchObject({ address: 'o:1', credentials: creds });
  });

  it.each([
    ['a username without passwordEnv', 'registry: { address: "r:5000", username: ci }', {}],
    [
      'passwordEnv without a username',
      'registry: { address: "r:5000", passwordEnv: REG_PW }',
      { REG_PW: 'x' },
    ],
    ['a passwordEnv that is not set', text.replace(REPOS, ''), {}],
  ])('refuses %s', (_name, yaml, env) => {
    expect(() => parseControllerConfig(`${yaml}${REPOS}`, { env })).toThrow(
      expect.toSatisfy((e: unknown) => isGantryError(e, 'GANTRY_ERR_CONFIG_INVALID')),
    );
  });
});

describe('gantry registry:prune output', () => {
  it('names what went per app, what stayed, and what the GC did', () => {
    const report = {
      dryRun: false,
      apps: [
        {
          app: 'hello',
          deleted: [{ digest: 'sha256:1', tags: ['475250381afd', 'f65d4ca8d0a4'] }],
          kept: 2,
        },
        { app: 'quiet', deleted: [], kept: 3 },
        { app: 'broken', deleted: [], kept: 0, error: 'registry r answered 500' },
      ],
      gc: 'ran: 8 blobs deleted',
    };
    expect(pruneLines(report)).toEqual([
      'hello: deleted 2 (475250381afd, f65d4ca8d0a4); kept 2',
      'quiet: nothing to delete; kept 3',
      '✘ broken: registry r answered 500',
      'garbage collection: ran: 8 blobs deleted',
    ]);
  });
});
