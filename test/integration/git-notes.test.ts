import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitNotes, NOTES_REF, readLocalNote } from '../../src/history/notes.js';
import { RepoCache } from '../../src/source/repo-cache.js';
import { createGitFixture, type GitFixture } from '../support/git-fixtures.js';

const fixtures: GitFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function fixture(): Promise<GitFixture> {
  const f = await createGitFixture();
  fixtures.push(f);
  return f;
}

/** A repo with two commits on main, `c1` then `c2`. */
async function twoCommits(): Promise<{ f: GitFixture; c1: string; c2: string }> {
  const f = await fixture();
  const c1 = await f.commit({ 'a.txt': 'one' });
  const c2 = await f.commit({ 'a.txt': 'two' });
  return { f, c1, c2 };
}

/** A cache of the repo in `f.tmp/name`, with main fetched. */
async function fetchedCache(f: GitFixture, name: string): Promise<RepoCache> {
  const cache = new RepoCache({ url: f.url, dir: path.join(f.tmp, name) });
  await cache.fetch('main');
  return cache;
}

/** A fresh `git clone` with the notes fetched, as a person would do it; returns `git log` output. */
async function logWithNotes(f: GitFixture, name: string): Promise<string> {
  const dir = path.join(f.tmp, name);
  await f.git(['clone', '--quiet', f.url, dir]);
  await f.git(['-C', dir, 'fetch', '--quiet', 'origin', `${NOTES_REF}:${NOTES_REF}`]);
  return f.git(['-C', dir, 'log', '--notes=gantry', '--format=%H%n%N--']);
}

/** The note lines of each commit in `git log --notes=gantry --format=%H%n%N--` output. */
function notesBySha(log: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const block of log.split('--').map((b) => b.trim())) {
    if (block === '') continue;
    const [sha = '', ...lines] = block.split('\n');
    out.set(sha, lines.filter(Boolean));
  }
  return out;
}

describe('deployment notes pushed to the origin', () => {
  it('writes a note that `git log --notes=gantry` on a fresh clone shows', async () => {
    const { f, c1, c2 } = await twoCommits();
    const cache = await fetchedCache(f, 'cache');
    const notes = new GitNotes();

    await notes.add({ dir: cache.dir, url: f.url }, [{ sha: c2, line: 'production: succeeded A' }]);
    await notes.add({ dir: cache.dir, url: f.url }, [{ sha: c1, line: 'staging: failed B' }]);
    // Delivered twice (a reporter retried): the line is not doubled.
    await notes.add({ dir: cache.dir, url: f.url }, [{ sha: c2, line: 'production: succeeded A' }]);

    const log = notesBySha(await logWithNotes(f, 'fresh'));
    expect(log.get(c2)).toEqual(['production: succeeded A']);
    expect(log.get(c1)).toEqual(['staging: failed B']);
    expect(await readLocalNote(cache.dir, c2)).toBe('production: succeeded A\n');
  });

  it('merges when another clone pushed notes first: both survive, nothing is forced', async () => {
    const { f, c1, c2 } = await twoCommits();
    const cache = await fetchedCache(f, 'cache');
    const notes = new GitNotes();
    await notes.add({ dir: cache.dir, url: f.url }, [{ sha: c2, line: 'production: succeeded 1' }]);

    // A person adds notes with the git CLI (to another commit, and to the same one) and pushes.
    await f.git(['fetch', '--quiet', 'origin', `${NOTES_REF}:${NOTES_REF}`]);
    await f.git(['notes', '--ref=gantry', 'add', '-m', 'staging: succeeded by hand', c1]);
    await f.git(['notes', '--ref=gantry', 'append', '-m', 'qa: succeeded by hand', c2]);
    await f.git(['push', '--quiet', 'origin', NOTES_REF]);

    // Our local notes ref is now behind and diverges: the push is rejected, merged, pushed.
    await notes.add({ dir: cache.dir, url: f.url }, [{ sha: c2, line: 'production: failed 2' }]);

    const log = notesBySha(await logWithNotes(f, 'fresh'));
    expect(log.get(c1)).toEqual(['staging: succeeded by hand']);
    expect(new Set(log.get(c2))).toEqual(
      new Set(['production: succeeded 1', 'qa: succeeded by hand', 'production: failed 2']),
    );
    // The history keeps both sides: the remote's notes commit is an ancestor of what we pushed.
    const ours = await f.git(['ls-remote', f.url, NOTES_REF]);
    const pushed = ours.split('\t')[0]!;
    await f.git(['fetch', '--quiet', 'origin', `+${NOTES_REF}:refs/notes/check`]);
    const parents = await f.git(['rev-list', '--parents', '-n', '1', pushed]);
    expect(parents.split(' ').length).toBeGreaterThanOrEqual(2);
  });

  it('two writers with their own caches pushing at once both land', async () => {
    const { f, c1, c2 } = await twoCommits();
    const [a, b] = await Promise.all([fetchedCache(f, 'cache-a'), fetchedCache(f, 'cache-b')]);
    const notes = new GitNotes();

    await Promise.all([
      notes.add({ dir: a.dir, url: f.url }, [{ sha: c1, line: 'production: succeeded from a' }]),
      notes.add({ dir: b.dir, url: f.url }, [{ sha: c2, line: 'production: succeeded from b' }]),
      notes.add({ dir: b.dir, url: f.url }, [{ sha: c1, line: 'staging: succeeded from b' }]),
    ]);

    const log = notesBySha(await logWithNotes(f, 'fresh'));
    expect(new Set(log.get(c1))).toEqual(
      new Set(['production: succeeded from a', 'staging: succeeded from b']),
    );
    expect(log.get(c2)).toEqual(['production: succeeded from b']);
  });
});
