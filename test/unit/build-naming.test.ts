import { describe, expect, it } from 'vitest';
import { shouldRetry } from '../../src/build/build-runner.js';
import { imageLabels, imageTag, pinnedImage } from '../../src/build/image-naming.js';
import { GantryError } from '../../src/errors.js';
import { buildImageOptions, splitTag } from '../../src/runtime/docker/images.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('image naming', () => {
  it('tags by registry, app and 12-char SHA, and pins by digest', () => {
    const tag = imageTag('127.0.0.1:5000', 'hello', SHA);
    expect(tag).toBe('127.0.0.1:5000/hello:0123456789ab');
    expect(pinnedImage('127.0.0.1:5000', 'hello', tag, 'sha256:abc')).toEqual({
      tag,
      digest: 'sha256:abc',
      pinned: '127.0.0.1:5000/hello@sha256:abc',
    });
  });

  it('stamps OCI labels', () => {
    const labels = imageLabels({
      app: 'hello',
      sha: SHA,
      source: 'https://x/a.git',
      buildId: 'b-1',
      created: new Date(0),
    });
    expect(labels).toMatchObject({
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.source': 'https://x/a.git',
      'org.opencontainers.image.created': '1970-01-01T00:00:00.000Z',
      'dev.gantry.app': 'hello',
    });
  });

  it.each([
    ['127.0.0.1:5000/hello:abc', '127.0.0.1:5000/hello', 'abc'],
    ['127.0.0.1:5000/hello', '127.0.0.1:5000/hello', 'latest'],
    ['hello:1', 'hello', '1'],
  ])('splits %s', (ref, repository, tag) => {
    expect(splitTag(ref)).toEqual({ repository, tag });
  });

  it('builds the engine query without pulling, with target and args', () => {
    const opts = buildImageOptions({
      tag: 't:1',
      dockerfile: 'docker/Dockerfile',
      target: 'runtime',
      buildArgs: { A: '1' },
      labels: { l: 'v' },
    });
    expect(opts).toEqual({
      t: 't:1',
      dockerfile: 'docker/Dockerfile',
      target: 'runtime',
      buildargs: { A: '1' },
      labels: { l: 'v' },
      pull: false,
      rm: true,
      forcerm: true,
    });
    expect(
      buildImageOptions({ tag: 't', dockerfile: 'D', buildArgs: {}, labels: {} }),
    ).not.toHaveProperty('target');
  });
});

describe('build retry policy', () => {
  it.each([
    [
      'a transient error with attempts left',
      new GantryError('GANTRY_ERR_REGISTRY_UNAVAILABLE', 'x'),
      1,
      3,
      true,
    ],
    [
      'a transient error on the last attempt',
      new GantryError('GANTRY_ERR_DOCKER_UNAVAILABLE', 'x'),
      3,
      3,
      false,
    ],
    ['a stalled error', new GantryError('GANTRY_ERR_BUILD_FAILED', 'x'), 1, 3, false],
    ['a timeout', new GantryError('GANTRY_ERR_BUILD_TIMEOUT', 'x'), 1, 3, false],
    ['an unexpected error', new Error('boom'), 1, 3, true],
  ])('%s → retry %s', (_name, error, attempt, max, expected) => {
    expect(shouldRetry(error, attempt, max)).toBe(expected);
  });
});
