import { describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../../src/config/controller-config.js';

const repos = (...lines: string[]) =>
  parseControllerConfig(['repos:', ...lines].join('\n'), { env: {} }).repos;

describe('repos[].owns: app names a repo owns by config', () => {
  it('takes a bare name for a repo with one app folder, and { app, path } for a monorepo', () => {
    expect(
      repos(
        '  - { name: a, url: "http://git/a.git", owns: [shop] }',
        '  - { name: b, url: "http://git/b.git", apps: [api, web], owns: [{ app: api, path: api }] }',
      ).map((r) => r.owns),
    ).toEqual([[{ app: 'shop', path: '.' }], [{ app: 'api', path: 'api' }]]);
  });

  it.each([
    {
      name: 'a bare name in a monorepo',
      lines: ['  - { name: b, url: "http://git/b.git", apps: [api, web], owns: [api] }'],
      error: /owns api must say which folder/,
    },
    {
      name: 'a folder the repo does not build',
      lines: ['  - { name: a, url: "http://git/a.git", owns: [{ app: x, path: svc }] }'],
      error: /not one of its apps/,
    },
    {
      name: 'one name owned by two repos',
      lines: [
        '  - { name: a, url: "http://git/a.git", owns: [x] }',
        '  - { name: b, url: "http://git/b.git", owns: [x] }',
      ],
      error: /owned by both repo a and repo b/,
    },
    {
      name: 'a name with "--"',
      lines: ['  - { name: a, url: "http://git/a.git", owns: [shop--api] }'],
      error: /owns/,
    },
  ])('refuses $name', ({ lines, error }) => {
    expect(() => repos(...lines)).toThrow(error);
  });
});
