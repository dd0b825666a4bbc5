import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedGitEnv } from '../../src/demo/git-http-server.js';
import { applyDelta } from '../../src/source/git-delta.js';
import { indexPack } from '../../src/source/pack-index.js';

const env = isolatedGitEnv({
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.test',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.test',
});
let dir: string;
const git = (args: string[], input?: Buffer): Buffer =>
  execFileSync('git', args, { cwd: dir, env, input, maxBuffer: 1 << 26 });

/** A pack of every object reachable from HEAD, as `git pack-objects` makes it (with deltas). */
function packOf(extra: string[] = []): Buffer {
  const revs = Buffer.from('HEAD\n');
  return git(['pack-objects', '--stdout', '--revs', ...extra], revs);
}

/** What `git index-pack` makes of the same pack: the reference index. */
function gitIndex(pack: Buffer): Buffer {
  const file = path.join(dir, `p${Math.random().toString(36).slice(2)}.pack`);
  execFileSync('sh', ['-c', 'cat > "$0"', file], { input: pack });
  git(['index-pack', '-o', `${file}.idx`, file]);
  return readFileSync(`${file}.idx`);
}

/** The same objects in the opposite order (ref-deltas only: no entry points at an offset). */
function reversed(pack: Buffer): Buffer {
  const file = path.join(dir, 'r.pack');
  const idx = path.join(dir, 'r.idx');
  execFileSync('sh', ['-c', 'cat > "$0"', file], { input: pack });
  git(['index-pack', '-o', idx, file]);
  // verify-pack -v: "<oid> <type> <size> <size-in-pack> <offset> ..." per object.
  const rows = git(['verify-pack', '-v', idx])
    .toString()
    .split('\n')
    .map((l) => l.split(/\s+/))
    .filter((f) => /^[0-9a-f]{40}$/.test(f[0] ?? '') && f.length >= 5)
    .map((f) => ({ size: Number(f[3]), offset: Number(f[4]) }));
  const entries = rows.map((r) => pack.subarray(r.offset, r.offset + r.size)).reverse();
  const body = Buffer.concat([pack.subarray(0, 12), ...entries]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-pack-index-'));
  git(['init', '-q', '-b', 'main']);
  // Files that change a little each commit, so the pack holds delta chains.
  for (let c = 0; c < 30; c++) {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${i % (c + 1)}`).join('\n');
    execFileSync('sh', ['-c', `mkdir -p src/m${c % 3} && cat > src/m${c % 3}/f.txt`], {
      cwd: dir,
      input: `${lines}\n${c}\n`,
    });
    git(['add', '-A']);
    git(['commit', '-q', '-m', `change ${c}`]);
  }
  // A last commit that appends a line: its blob is a small delta of the one before it.
  execFileSync('sh', ['-c', 'echo tail >> src/m0/f.txt'], { cwd: dir });
  git(['commit', '-q', '-a', '-m', 'append']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('indexPack', () => {
  const cases: { name: string; flags: string[] }[] = [
    { name: 'ofs-deltas (what servers send)', flags: [] },
    { name: 'ref-deltas', flags: ['--no-delta-base-offset'] },
    { name: 'no deltas', flags: ['--depth=0'] },
  ];
  it.each(cases)('is byte for byte what git index-pack writes: $name', ({ flags }) => {
    const pack = packOf(flags);
    const ours = indexPack(pack, 1 << 20);
    expect(ours?.kind).toBe('index');
    expect(ours?.kind === 'index' && ours.idx.equals(gitIndex(pack))).toBe(true);
  });

  it('resolves a ref-delta that comes before its base (any order of the pack)', () => {
    const pack = reversed(packOf(['--no-delta-base-offset']));
    const ours = indexPack(pack, 1 << 20);
    expect(ours?.kind).toBe('index');
    expect(ours?.kind === 'index' && ours.idx.equals(gitIndex(pack))).toBe(true);
  });

  it('gives up on a thin pack (a delta base outside the pack)', () => {
    const thin = git(
      ['pack-objects', '--stdout', '--revs', '--thin'],
      Buffer.from('HEAD\n^HEAD~1\n'),
    );
    expect(indexPack(thin, 1 << 20)).toBeNull();
  });

  it('refuses a delta that makes an object over the cap', () => {
    // Every object of the last commit is under 8 KiB as a delta, over 1 KiB once applied.
    const pack = packOf();
    const result = indexPack(pack, 2000);
    expect(result?.kind).toBe('oversized');
  });

  it('refuses an object over the cap from its header', () => {
    const result = indexPack(packOf(), 100);
    expect(result?.kind).toBe('oversized');
  });

  it('gives up on what is not a pack, or a truncated one', () => {
    expect(indexPack(Buffer.from('nope'), 1 << 20)).toBeNull();
    const pack = packOf();
    expect(indexPack(pack.subarray(0, pack.length - 40), 1 << 20)).toBeNull();
  });
});

describe('applyDelta', () => {
  it('rebuilds any target from inserts and copies of its base', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 127 })), {
          maxLength: 20,
        }),
        (baseArr, ops) => {
          const base = Buffer.from(baseArr);
          const parts: Buffer[] = [];
          const delta: number[] = [];
          for (const [copy, at, len] of ops) {
            if (copy && base.length > 0) {
              const off = at % base.length;
              const n = Math.min(len, base.length - off);
              delta.push(0x80 | 0x01 | 0x02 | 0x10, off & 0xff, off >> 8, n);
              parts.push(base.subarray(off, off + n));
            } else {
              const bytes = Buffer.alloc(len, at % 256);
              delta.push(len, ...bytes);
              parts.push(bytes);
            }
          }
          const target = Buffer.concat(parts);
          const varint = (v: number): number[] => {
            const out: number[] = [];
            do {
              out.push((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
              v = Math.floor(v / 128);
            } while (v > 0);
            return out;
          };
          const full = Buffer.from([...varint(base.length), ...varint(target.length), ...delta]);
          expect(applyDelta(base, full)?.equals(target)).toBe(true);
        },
      ),
    );
  });

  it('refuses a delta for another base or past its target', () => {
    expect(applyDelta(Buffer.from('abc'), Buffer.from([4, 1, 1, 120]))).toBeNull();
    expect(applyDelta(Buffer.from('abc'), Buffer.from([3, 1, 2, 120, 121]))).toBeNull();
  });
});
