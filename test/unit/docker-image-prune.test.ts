import { describe, expect, it } from 'vitest';
import { digestOf, imagesToPrune, type ImageEntry } from '../../src/runtime/docker/image-prune.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const REG = '127.0.0.1:5000';

const images: ImageEntry[] = [
  {
    Id: 'sha256:old',
    RepoTags: [`${REG}/hello:aaaaaaaaaaaa`],
    RepoDigests: [`${REG}/hello@${d('a')}`],
    Labels: { 'dev.gantry.app': 'hello' },
  },
  {
    Id: 'sha256:current',
    RepoTags: [`${REG}/hello:bbbbbbbbbbbb`],
    RepoDigests: [`${REG}/hello@${d('b')}`],
    Labels: { 'dev.gantry.app': 'hello' },
  },
  {
    Id: 'sha256:pulled',
    RepoTags: [],
    RepoDigests: [`${REG}/hello@${d('c')}`],
    Labels: { 'dev.gantry.app': 'hello' },
  },
  {
    Id: 'sha256:dangling',
    RepoTags: ['<none>:<none>'],
    RepoDigests: ['<none>@<none>'],
    Labels: { 'dev.gantry.app': 'hello' },
  },
  {
    Id: 'sha256:other-app',
    RepoTags: [`${REG}/api:cccccccccccc`],
    Labels: { 'dev.gantry.app': 'api' },
  },
  { Id: 'sha256:base', RepoTags: ['gantry.local/busybox:1'], Labels: null },
];

describe('imagesToPrune', () => {
  it.each([
    {
      name: 'keeps the pinned ref, removes the rest of the app, tags first',
      keep: [`${REG}/hello@${d('b')}`],
      inUse: [],
      want: [
        `${REG}/hello:aaaaaaaaaaaa`,
        `${REG}/hello@${d('a')}`,
        `${REG}/hello@${d('c')}`,
        'sha256:dangling',
      ],
    },
    {
      name: 'a digest kept under another registry spelling still keeps the image',
      keep: [`localhost:5000/hello@${d('a')}`, `${REG}/hello@${d('b')}`, `${REG}/hello@${d('c')}`],
      inUse: [],
      want: ['sha256:dangling'],
    },
    {
      name: 'keeps by tag and by id',
      keep: [`${REG}/hello:aaaaaaaaaaaa`, 'sha256:pulled'],
      inUse: [],
      want: [`${REG}/hello:bbbbbbbbbbbb`, `${REG}/hello@${d('b')}`, 'sha256:dangling'],
    },
    {
      name: 'never touches images containers use',
      keep: [],
      inUse: ['sha256:old', 'sha256:current', 'sha256:pulled', 'sha256:dangling'],
      want: [],
    },
  ])('$name', ({ keep, inUse, want }) => {
    expect(imagesToPrune(images, 'hello', keep, new Set(inUse))).toEqual(want);
  });

  it('never selects another app or unlabelled images', () => {
    const refs = imagesToPrune(images, 'hello', []);
    expect(
      refs.some((r) => r.includes('/api') || r.includes('busybox') || r === 'sha256:base'),
    ).toBe(false);
    expect(imagesToPrune(images, 'nope', [])).toEqual([]);
  });
});

describe('digestOf', () => {
  it('reads the digest of a pinned ref only', () => {
    expect(digestOf(`${REG}/hello@${d('a')}`)).toBe(d('a'));
    expect(digestOf(`${REG}/hello:tag`)).toBeUndefined();
  });
});
