import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedGitEnv } from '../../src/demo/git-http-server.js';
import { PackIndexedNatively, packGuardedFs } from '../../src/source/pack-guard.js';

const env = isolatedGitEnv();
let dir: string;
let pack: Buffer;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-pack-guard-'));
  const git = (args: string[], input?: Buffer): Buffer =>
    execFileSync('git', args, { cwd: dir, env, input });
  git(['init', '-q', '-b', 'main']);
  execFileSync('sh', ['-c', 'seq 1 2000 > a.txt'], { cwd: dir });
  git(['add', '-A']);
  git(['-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-q', '-m', 'one']);
  pack = git(['pack-objects', '--stdout', '--revs'], Buffer.from('HEAD\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Where isomorphic-git writes a fetched pack, in a fresh repository. */
function packPath(name: string): string {
  const packs = path.join(dir, name, 'objects', 'pack');
  mkdirSync(packs, { recursive: true });
  return path.join(packs, 'pack-x.pack');
}

const refuse = (size: number) => new Error(`too large: ${size}`);

describe('packGuardedFs', () => {
  it('writes the pack and its index, then ends the fetch with PackIndexedNatively', async () => {
    const file = packPath('native');
    const fs = packGuardedFs(1 << 20, refuse);
    await expect(fs.promises.writeFile(file, pack)).rejects.toBeInstanceOf(PackIndexedNatively);
    expect(readFileSync(file).equals(pack)).toBe(true);
    expect(existsSync(file.replace(/\.pack$/, '.idx'))).toBe(true);
  });

  it('answers the retry of a failed write (isomorphic-git makes one) without indexing again', async () => {
    const file = packPath('retry');
    const fs = packGuardedFs(1 << 20, refuse);
    const first = await fs.promises.writeFile(file, pack).catch((e: unknown) => e);
    const second = await fs.promises.writeFile(file, pack).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(PackIndexedNatively);
    expect(second).toBe(first);
  });

  it('refuses an object over the cap, on the retry too, and writes nothing', async () => {
    const file = packPath('oversized');
    const fs = packGuardedFs(100, refuse);
    const first = await fs.promises.writeFile(file, pack).catch((e: unknown) => e);
    const second = await fs.promises.writeFile(file, pack).catch((e: unknown) => e);
    expect(String(first)).toMatch(/too large/);
    expect(second).toBe(first);
    expect(existsSync(file)).toBe(false);
  });

  it('leaves the pack to isomorphic-git when told to', async () => {
    const file = packPath('js');
    const fs = packGuardedFs(1 << 20, refuse, false);
    await fs.promises.writeFile(file, pack);
    expect(readFileSync(file).equals(pack)).toBe(true);
    expect(existsSync(file.replace(/\.pack$/, '.idx'))).toBe(false);
  });
});
