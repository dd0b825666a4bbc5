import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { buildContextTar } from '../../src/source/build-context.js';
import { RepoCache } from '../../src/source/repo-cache.js';
import { createGitFixture, type GitFixture } from '../support/git-fixtures.js';

interface TarEntry {
  type: string;
  mode: number;
  linkname: string | null;
  content: string;
  mtime: number;
}

/** Reads a tar stream back into name → entry. */
async function readTar(stream: Readable): Promise<Map<string, TarEntry>> {
  const out = new Map<string, TarEntry>();
  const extract = tar.extract();
  stream.pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const h = entry.header;
    out.set(h.name, {
      type: h.type ?? 'file',
      mode: (h.mode ?? 0) & 0o7777,
      linkname: h.linkname ?? null,
      content: Buffer.concat(chunks).toString('utf8'),
      mtime: h.mtime?.getTime() ?? 0,
    });
  }
  return out;
}

const fixtures: GitFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function setup(): Promise<{ f: GitFixture; cache: RepoCache }> {
  const f = await createGitFixture();
  fixtures.push(f);
  return { f, cache: new RepoCache({ url: f.url, dir: path.join(f.tmp, 'cache') }) };
}

describe('buildContextTar', () => {
  it('packs the tree of the commit, honouring .dockerignore, modes and in-context symlinks', async () => {
    const { f, cache } = await setup();
    const sha = await f.commit({
      Dockerfile: 'FROM scratch\nCOPY . /app\n',
      '.dockerignore': '*.log\nsecrets\nDockerfile\n',
      'app.js': 'console.log(1)\n',
      'debug.log': 'noise',
      'secrets/key.pem': 'PRIVATE',
      'bin/start': { content: '#!/bin/sh\nexec node app.js\n', executable: true },
      'config/app.yaml': 'port: 8080\n',
      'app.yaml': { symlink: 'config/app.yaml' },
    });
    // Untracked files in a worktree never matter: the context comes from the object store alone.
    await writeFile(path.join(f.tmp, 'work', 'untracked.txt'), 'not committed');
    await cache.fetch('main');

    const ctx = await buildContextTar(cache, sha, '.');
    const entries = await readTar(ctx.tar);
    expect([...entries.keys()].sort()).toEqual(
      [
        '.dockerignore',
        'Dockerfile',
        'app.js',
        'app.yaml',
        'bin',
        'bin/start',
        'config',
        'config/app.yaml',
      ].sort(),
    );
    expect(ctx).toMatchObject({ files: 6, excluded: 2, notes: [] });
    expect(ctx.bytes).toBe(
      [...entries.values()]
        .filter((e) => e.type === 'file')
        .reduce((n, e) => n + Buffer.byteLength(e.content), 0),
    );
    expect(entries.get('bin/start')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(entries.get('app.js')).toMatchObject({
      type: 'file',
      mode: 0o644,
      content: 'console.log(1)\n',
    });
    // Docker keeps the Dockerfile even when .dockerignore names it.
    expect(entries.get('Dockerfile')?.content).toBe('FROM scratch\nCOPY . /app\n');
    expect(entries.get('app.yaml')).toMatchObject({ type: 'symlink', linkname: 'config/app.yaml' });
    expect(entries.get('bin')).toMatchObject({ type: 'directory', mode: 0o755 });
    const committed = (await cache.commitInfo(sha)).committer.timestamp * 1000;
    expect(entries.get('app.js')?.mtime).toBe(committed);
  });

  it('builds each commit from its own tree: a file deleted later is absent there', async () => {
    const { f, cache } = await setup();
    const before = await f.commit({
      Dockerfile: 'FROM scratch\n',
      'old.txt': 'legacy',
      'v.txt': '1',
    });
    const after = await f.commit({ 'old.txt': null, 'v.txt': '2' });
    await cache.fetch('main');
    await cache.ensureCommit(before, 'main');

    const later = await readTar((await buildContextTar(cache, after, '')).tar);
    expect(later.has('old.txt')).toBe(false);
    expect(later.get('v.txt')?.content).toBe('2');
    const earlier = await readTar((await buildContextTar(cache, before, '')).tar);
    expect(earlier.get('old.txt')?.content).toBe('legacy');
    expect(earlier.get('v.txt')?.content).toBe('1');
  });

  it('uses a subdirectory as the context, with paths relative to it', async () => {
    const { f, cache } = await setup();
    const sha = await f.commit({
      'services/api/Dockerfile': 'FROM scratch\n',
      'services/api/src/main.js': 'x',
      'services/api/.dockerignore': 'src/*.test.js\n',
      'services/api/src/main.test.js': 'test',
      'services/web/index.html': '<p>',
      'README.md': 'root',
    });
    await cache.fetch('main');
    const ctx = await buildContextTar(cache, sha, 'services/api');
    const entries = await readTar(ctx.tar);
    expect([...entries.keys()].sort()).toEqual([
      '.dockerignore',
      'Dockerfile',
      'src',
      'src/main.js',
    ]);
    expect(ctx.excluded).toBe(1);
  });

  it.each([
    [
      'a relative link out of the context',
      'services/api',
      { 'services/api/leak': { symlink: '../../README.md' } },
    ],
    ['an absolute link', '.', { 'etc-passwd': { symlink: '/etc/passwd' } }],
    [
      'a link into the repo but out of a subdirectory context',
      'services/api',
      { 'services/api/shared': { symlink: '../web' } },
    ],
  ] as const)('refuses %s with PATH_ESCAPE', async (_name, context, links) => {
    const { f, cache } = await setup();
    const sha = await f.commit({
      'README.md': 'x',
      'services/api/Dockerfile': 'FROM scratch\n',
      'services/web/a': 'a',
      ...links,
    });
    await cache.fetch('main');
    const linkPath = Object.keys(links)[0]!.replace(context === '.' ? '' : `${context}/`, '');
    await expect(buildContextTar(cache, sha, context)).rejects.toMatchObject({
      code: 'GANTRY_ERR_PATH_ESCAPE',
      message: expect.stringContaining(JSON.stringify(linkPath)),
    });
  });

  it('skips a submodule with a note', async () => {
    const { f, cache } = await setup();
    await f.commit({ Dockerfile: 'FROM scratch\n' }, undefined, { push: false });
    // A gitlink straight into the index: `commit()` would stage its absence from the worktree.
    await f.git(['update-index', '--add', '--cacheinfo', `160000,${'c'.repeat(40)},vendor/lib`]);
    await f.git(['commit', '--quiet', '-m', 'add submodule']);
    await f.push();
    const sha = await f.git(['rev-parse', 'HEAD']);
    await cache.fetch('main');
    const ctx = await buildContextTar(cache, sha, '.');
    expect([...(await readTar(ctx.tar)).keys()]).toEqual(['Dockerfile']);
    expect(ctx.notes).toEqual([expect.stringContaining('submodule "vendor/lib"')]);
  });

  it('gives the same bytes for the same commit', async () => {
    const { f, cache } = await setup();
    const sha = await f.commit({
      Dockerfile: 'FROM scratch\n',
      'a/b/c.txt': 'c',
      x: { content: 'y', executable: true },
    });
    await cache.fetch('main');
    const bytes = async (): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      for await (const chunk of (await buildContextTar(cache, sha, '.')).tar)
        chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    expect((await bytes()).equals(await bytes())).toBe(true);
  });

  it('notes a missing Dockerfile and refuses a missing context directory', async () => {
    const { f, cache } = await setup();
    const sha = await f.commit({ 'a.txt': 'a' });
    await cache.fetch('main');
    expect((await buildContextTar(cache, sha, '.')).notes).toEqual([
      expect.stringContaining('no Dockerfile'),
    ]);
    await expect(buildContextTar(cache, sha, 'nope')).rejects.toMatchObject({
      code: 'GANTRY_ERR_GIT_NOT_FOUND',
    });
    await expect(buildContextTar(cache, sha, '../x')).rejects.toMatchObject({
      code: 'GANTRY_ERR_PATH_ESCAPE',
    });
  });
});
