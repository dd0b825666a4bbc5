import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { GantryError } from '../../src/errors.js';
import { RepoCache } from '../../src/source/repo-cache.js';
import { createGitFixture, type GitFixture } from '../support/git-fixtures.js';

const fixtures: GitFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function fixture(opts: Parameters<typeof createGitFixture>[0] = {}): Promise<GitFixture> {
  const f = await createGitFixture(opts);
  fixtures.push(f);
  return f;
}

function cacheOf(
  f: GitFixture,
  extra: Partial<ConstructorParameters<typeof RepoCache>[0]> = {},
): RepoCache {
  return new RepoCache({ url: f.url, dir: path.join(f.tmp, 'cache'), ...extra });
}

/** Every file under the object store: packs, indexes and loose objects. */
async function objectFiles(cache: RepoCache): Promise<string[]> {
  const entries = await readdir(path.join(cache.dir, 'objects'), {
    recursive: true,
    withFileTypes: true,
  });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function shallowBoundary(cache: RepoCache): Promise<string[]> {
  const text = await readFile(path.join(cache.dir, 'shallow'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

async function rejection(p: Promise<unknown>): Promise<GantryError> {
  try {
    await p;
  } catch (e) {
    return e as GantryError;
  }
  throw new Error('expected a rejection');
}

describe('RepoCache over real smart HTTP', () => {
  it('sees a new head from the ref advertisement alone, without fetching objects', async () => {
    const f = await fixture();
    const c1 = await f.commit({ 'a.txt': 'one' });
    const cache = cacheOf(f);
    expect(await cache.fetch('main')).toBe(c1);
    const before = await objectFiles(cache);

    const c2 = await f.commit({ 'a.txt': 'two' });
    expect(await cache.headOf('main')).toBe(c2);
    expect(await cache.headOf('nope')).toBeNull();
    expect(await objectFiles(cache)).toEqual(before);
  });

  it('fetches shallow first, then only what is new', async () => {
    const f = await fixture();
    const c1 = await f.commit({ 'a.txt': 'one' });
    await f.commit({ 'a.txt': 'two' });
    const c3 = await f.commit({ 'a.txt': 'three' });
    const cache = cacheOf(f);

    expect(await cache.fetch('main')).toBe(c3);
    expect(await shallowBoundary(cache)).toEqual([c3]);
    await expect(cache.commitInfo(c1)).rejects.toMatchObject({ code: 'GANTRY_ERR_GIT_NOT_FOUND' });

    const c4 = await f.commit({ 'b.txt': 'new file' });
    const packsBefore = (await objectFiles(cache)).filter((p) => p.endsWith('.pack'));
    expect(await cache.fetch('main')).toBe(c4);
    // Incremental: the boundary stays where it was and c4's parent is the commit we already had.
    expect(await shallowBoundary(cache)).toEqual([c3]);
    expect((await cache.commitInfo(c4)).parents).toEqual([c3]);
    const newPacks = (await objectFiles(cache)).filter(
      (p) => p.endsWith('.pack') && !packsBefore.includes(p),
    );
    expect(newPacks).toHaveLength(1);
    // One commit, one tree, one blob: nothing of the old history came along.
    const listing = execFileSync(
      'git',
      ['verify-pack', '-v', newPacks[0]!.replace(/\.pack$/, '.idx')],
      {
        encoding: 'utf8',
      },
    );
    expect(listing.match(/^[0-9a-f]{40} (commit|tree|blob)/gm)).toHaveLength(3);

    // Nothing new: the head stays, and the cache is still fine.
    expect(await cache.fetch('main')).toBe(c4);
    expect((await cache.readFile(c4, 'b.txt'))?.toString()).toBe('new file');
  });

  it('follows a force-push that rewrites the branch', async () => {
    const f = await fixture();
    const c1 = await f.commit({ 'a.txt': 'one' });
    await f.commit({ 'a.txt': 'two' });
    const cache = cacheOf(f);
    await cache.fetch('main');
    await f.git(['reset', '--quiet', '--hard', c1]);
    await f.commit({ 'a.txt': 'rewritten' }, 'rewrite', { push: false });
    await f.git(['push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/main']);
    const rewritten = await f.git(['rev-parse', 'HEAD']);

    expect(await cache.headOf('main')).toBe(rewritten);
    expect(await cache.fetch('main')).toBe(rewritten);
    expect((await cache.readFile(rewritten, 'a.txt'))?.toString()).toBe('rewritten');
  });

  it('reads a file at an exact older commit, not the latest', async () => {
    const f = await fixture();
    await f.commit({ 'app/gantry.yaml': 'app: v1\n' });
    const c2 = await f.commit({ 'app/gantry.yaml': 'app: v2\n', 'app/old.txt': 'x' });
    const c3 = await f.commit({ 'app/gantry.yaml': 'app: v3\n', 'app/old.txt': null });
    const cache = cacheOf(f);
    await cache.fetch('main', { depth: 2 });

    expect((await cache.readFile(c2, 'app/gantry.yaml'))?.toString()).toBe('app: v2\n');
    expect((await cache.readFile(c3, './app//gantry.yaml'))?.toString()).toBe('app: v3\n');
    expect((await cache.readFile(c2, 'app/old.txt'))?.toString()).toBe('x');
    expect(await cache.readFile(c3, 'app/old.txt')).toBeNull();
    expect(await cache.readFile(c3, 'app')).toBeNull(); // a directory is not a file
    expect(await cache.readFile(c3, 'app/gantry.yaml/x')).toBeNull();
    await expect(cache.readFile(c3, '../etc/passwd')).rejects.toMatchObject({
      code: 'GANTRY_ERR_PATH_ESCAPE',
    });
    await expect(cache.readFile(c3, '/etc/passwd')).rejects.toMatchObject({
      code: 'GANTRY_ERR_PATH_ESCAPE',
    });
    await expect(cache.readFile('HEAD', 'app/gantry.yaml')).rejects.toMatchObject({
      code: 'GANTRY_ERR_REF_INVALID',
    });
  });

  it('ensureCommit deepens a shallow cache to reach an old commit', async () => {
    const f = await fixture();
    const shas: string[] = [];
    // 60 commits: past the first deepening step (50).
    for (let i = 0; i < 60; i++)
      shas.push(await f.commit({ 'v.txt': `v${i}` }, undefined, { push: false }));
    await f.push();
    const [first, tenBack] = [shas[0]!, shas[49]!];
    const cache = cacheOf(f);
    await cache.fetch('main');
    await expect(cache.readFile(first, 'v.txt')).rejects.toMatchObject({
      code: 'GANTRY_ERR_GIT_NOT_FOUND',
    });

    // A recent commit needs only the first, small deepening: the cache stays shallow.
    await cache.ensureCommit(tenBack, 'main');
    expect((await cache.readFile(tenBack, 'v.txt'))?.toString()).toBe('v49');
    expect(await shallowBoundary(cache)).not.toEqual([]);

    await cache.ensureCommit(first, 'main');
    expect((await cache.readFile(first, 'v.txt'))?.toString()).toBe('v0');
    expect(await shallowBoundary(cache)).toEqual([]);
    expect(await cache.commitInfo(first)).toMatchObject({
      sha: first,
      message: 'commit 1\n',
      parents: [],
    });

    const err = await rejection(cache.ensureCommit('f'.repeat(40), 'main'));
    expect(err.code).toBe('GANTRY_ERR_GIT_NOT_FOUND');
    expect(err.message).toContain('not in the history of branch "main"');
  }, 120_000);

  it('ensureCommit on an empty cache fetches the branch', async () => {
    const f = await fixture();
    const c1 = await f.commit({ 'a.txt': 'one' });
    await f.commit({ 'a.txt': 'two' });
    const cache = cacheOf(f);
    await cache.ensureCommit(c1, 'main');
    expect((await cache.readFile(c1, 'a.txt'))?.toString()).toBe('one');
  });

  it('describes commits and lists trees recursively', async () => {
    const f = await fixture();
    const c1 = await f.commit(
      {
        'svc/Dockerfile': 'FROM scratch\n',
        'svc/bin/run': { content: '#!/bin/sh\n', executable: true },
        'README.md': 'hi',
      },
      'Add svc (#12)\n\nbody',
    );
    const cache = cacheOf(f);
    await cache.fetch('main');

    const info = await cache.commitInfo(c1);
    expect(info).toMatchObject({
      sha: c1,
      message: 'Add svc (#12)\n\nbody\n',
      author: { name: 'Ada Lovelace', email: 'ada@example.test' },
      committer: { name: 'Ada Lovelace' },
      parents: [],
    });
    expect(info.author.timestamp).toBeGreaterThan(1_600_000_000);

    const tree = await cache.listTree(c1, 'svc');
    expect(tree.map((e) => [e.path, e.mode, e.type])).toEqual([
      ['svc/Dockerfile', '100644', 'blob'],
      ['svc/bin', '040000', 'tree'],
      ['svc/bin/run', '100755', 'blob'],
    ]);
    expect((await cache.listTree(c1, '.')).map((e) => e.path)).toContain('README.md');
    await expect(cache.listTree(c1, 'nope')).rejects.toMatchObject({
      code: 'GANTRY_ERR_GIT_NOT_FOUND',
    });
  });

  it('reports a missing branch as NOT_FOUND and a bad one as REF_INVALID', async () => {
    const f = await fixture();
    await f.commit({ 'a.txt': 'one' });
    const cache = cacheOf(f);
    const err = await rejection(cache.fetch('does-not-exist'));
    expect(err.code).toBe('GANTRY_ERR_GIT_NOT_FOUND');
    expect(err.message).toContain('"does-not-exist"');
    await expect(cache.fetch('--upload-pack=touch /tmp/pwned')).rejects.toMatchObject({
      code: 'GANTRY_ERR_REF_INVALID',
    });
    await expect(cache.headOf('a..b')).rejects.toMatchObject({ code: 'GANTRY_ERR_REF_INVALID' });
  });

  it('reports an empty repository as NOT_FOUND', async () => {
    const f = await fixture();
    await expect(cacheOf(f).fetch('main')).rejects.toMatchObject({
      code: 'GANTRY_ERR_GIT_NOT_FOUND',
    });
  });

  it('authenticates with basic credentials and never leaks them', async () => {
    const password = 's3cret-token-value';
    const f = await fixture({ auth: { username: 'deploy', password } });
    const c1 = await f.commit({ 'a.txt': 'one' });

    const good = cacheOf(f, { credentials: { username: 'deploy', password } });
    expect(await good.headOf('main')).toBe(c1);
    expect(await good.fetch('main')).toBe(c1);

    for (const bad of [
      cacheOf(f, { dir: path.join(f.tmp, 'c-none') }),
      cacheOf(f, {
        dir: path.join(f.tmp, 'c-wrong'),
        credentials: { username: 'deploy', password: 'wrong-password' },
      }),
      new RepoCache({
        url: f.url.replace('http://', 'http://deploy:wrong-in-url@'),
        dir: path.join(f.tmp, 'c-url'),
      }),
    ]) {
      for (const op of [() => bad.fetch('main'), () => bad.headOf('main')]) {
        const err = await rejection(op());
        expect(err.code).toBe('GANTRY_ERR_GIT_FETCH');
        expect(err.disposition).toBe('transient');
        expect(err.details).toMatchObject({ url: f.url, status: 401 });
        const everything = `${err.message}\n${inspect(err, { depth: 10 })}\n${JSON.stringify(err)}`;
        expect(everything).not.toContain(password);
        expect(everything).not.toContain('wrong-password');
        expect(everything).not.toContain('wrong-in-url');
      }
    }
  });

  it('reports an unreachable remote as a transient GIT_FETCH', async () => {
    const f = await fixture();
    await f.commit({ 'a.txt': 'one' });
    const url = f.url;
    await f.server.close();
    const err = await rejection(
      new RepoCache({ url, dir: path.join(f.tmp, 'cache') }).fetch('main'),
    );
    expect(err).toMatchObject({ code: 'GANTRY_ERR_GIT_FETCH', disposition: 'transient' });
    expect(err.message).toContain(url);
  });

  it('serializes concurrent fetches of one cache directory', async () => {
    const f = await fixture();
    await f.commit({ 'a.txt': 'one' });
    const a = cacheOf(f);
    const b = cacheOf(f); // a second instance on the same directory shares the lock
    await a.fetch('main');
    const heads: Promise<string>[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 4; i++) {
      expected.push(await f.commit({ [`f${i}.txt`]: `${i}` }));
      heads.push(a.fetch('main'), b.fetch('main'));
    }
    const got = await Promise.all(heads);
    const last = expected.at(-1)!;
    expect(got.at(-1)).toBe(last);
    for (const sha of got) expect(expected).toContain(sha);
    // Reads running alongside fetches see a consistent store.
    const reads = await Promise.all(expected.map((sha, i) => a.readFile(sha, `f${i}.txt`)));
    expect(reads.map((r) => r?.toString())).toEqual(['0', '1', '2', '3']);
  });

  it('refuses a cache directory that holds another remote', async () => {
    const f = await fixture();
    await f.commit({ 'a.txt': 'one' });
    await cacheOf(f).fetch('main');
    const other = new RepoCache({
      url: `${f.server.url}/other.git`,
      dir: path.join(f.tmp, 'cache'),
    });
    await expect(other.fetch('main')).rejects.toMatchObject({ code: 'GANTRY_ERR_CONFIG_INVALID' });
  });
});
