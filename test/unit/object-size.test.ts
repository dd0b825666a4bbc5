import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedGitEnv } from '../../src/demo/git-http-server.js';
import { ObjectSizes } from '../../src/source/object-size.js';

const env = isolatedGitEnv();
let dir: string;
const git = (...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
    cwd: dir,
    env,
  })
    .toString()
    .trim();

/** Commits `text` as a.txt; returns the blob's id. */
function commit(text: string): string {
  execFileSync('sh', ['-c', 'cat > a.txt'], { cwd: dir, input: text });
  git('add', '-A');
  git('commit', '-q', '-m', 'c');
  return git('rev-parse', 'HEAD:a.txt');
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-object-size-'));
  git('init', '-q', '-b', 'main');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ObjectSizes', () => {
  it('gives every object’s size from the packs (deltas too) and loose objects, null when absent', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    const packed = [commit(lines.join('\n')), commit([...lines, 'more'].join('\n'))];
    git('repack', '-adq'); // one pack, the older blob a delta of the newer
    const loose = commit('loose\n');
    const sizes = new ObjectSizes(path.join(dir, '.git'));
    for (const oid of [
      ...packed,
      loose,
      git('rev-parse', 'HEAD'),
      git('rev-parse', 'HEAD^{tree}'),
    ]) {
      expect(await sizes.of(oid)).toBe(Number(git('cat-file', '-s', oid)));
    }
    expect(await sizes.of('0'.repeat(40))).toBeNull();
  });

  it('finds an object in a pack that came after it read the packs', async () => {
    const sizes = new ObjectSizes(path.join(dir, '.git'));
    await sizes.of(git('rev-parse', 'HEAD')); // reads the packs there are now
    const later = commit('later\n'.repeat(100));
    git('repack', '-dq'); // a second pack, with what is loose
    expect(await sizes.of(later)).toBe(600);
  });
});
