/**
 * The size of a git object, read from its header without inflating its content. isomorphic-git can
 * only tell an object's size by reading all of it into memory, and a push can hold a blob of
 * gigabytes that compresses to almost nothing (zeros deflate ~1000:1): the caps on what a push
 * can make the controller hold are checked with this first.
 *
 * Formats (git's `Documentation/gitformat-pack.txt`): a pack index v2 maps an object id to its
 * offset in the pack; the object's header there gives its type and inflated size, except for a
 * delta, whose header gives the delta's size and whose first inflated bytes give the size of the
 * object it makes. A loose object is `<type> <size>\0<content>`, deflated.
 */
import { constants, inflateSync } from 'node:zlib';
import * as fs from 'node:fs/promises';
import path from 'node:path';

const IDX_MAGIC = 0xff744f63;
const FANOUT_AT = 8;
const SHAS_AT = FANOUT_AT + 256 * 4;
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Enough deflated bytes to inflate the few header bytes a delta or a loose object starts with. */
const HEAD_READ = 1024;

/**
 * Object sizes in one repository, its pack indexes read once and held (a pack never changes; a
 * new one comes from a fetch, after which the owner calls {@link ObjectSizes.forget}). Asking
 * for a size then costs one read of the pack, not a walk of the index on disk.
 */
export class ObjectSizes {
  private indexes: Promise<PackIndexFile[]> | undefined;

  constructor(private readonly gitdir: string) {}

  /** Forgets the packs it knows: the next call lists and reads them again. */
  forget(): void {
    this.indexes = undefined;
  }

  /** The inflated size of object `oid`, or null when the repository does not hold it. */
  async of(oid: string): Promise<number | null> {
    const size = await this.lookup(oid);
    if (size !== null) return size;
    // Not in the packs known: one may have come since (another cache of the same directory
    // fetched it), so look once more in the packs as they are now.
    this.forget();
    return this.lookup(oid);
  }

  private async lookup(oid: string): Promise<number | null> {
    const loading = (this.indexes ??= readIndexes(this.gitdir));
    const indexes = await loading.catch((e: unknown) => {
      if (this.indexes === loading) this.indexes = undefined; // not kept: the next call retries
      throw e;
    });
    const want = Buffer.from(oid, 'hex');
    for (const { idx, pack } of indexes) {
      const offset = offsetInIndex(idx, want);
      if (offset !== null) return packedObjectSize(pack, offset);
    }
    return looseObjectSize(this.gitdir, oid);
  }
}

interface PackIndexFile {
  readonly idx: Buffer;
  readonly pack: string;
}

async function readIndexes(gitdir: string): Promise<PackIndexFile[]> {
  const packDir = path.join(gitdir, 'objects', 'pack');
  const names = await fs.readdir(packDir).catch(() => [] as string[]);
  const out: PackIndexFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.idx'))) {
    const idx = await fs.readFile(path.join(packDir, name));
    if (idx.length < SHAS_AT || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) {
      throw new Error(`${name}: not a version 2 pack index`);
    }
    out.push({ idx, pack: path.join(packDir, name.replace(/\.idx$/, '.pack')) });
  }
  return out;
}

async function looseObjectSize(gitdir: string, oid: string): Promise<number | null> {
  const file = path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
  const head = await readAt(file, 0, HEAD_READ).catch(() => null);
  if (head === null) return null;
  const text = inflatePrefix(head).toString('latin1');
  const m = /^[a-z]+ ([0-9]+)\0/.exec(text);
  if (!m) throw new Error(`loose object ${oid}: unreadable header`);
  return Number(m[1]);
}

/** The offset of object `want` (20 bytes) in the pack of index `idx` (v2), or null when absent. */
function offsetInIndex(idx: Buffer, want: Buffer): number | null {
  const first = want[0] ?? 0;
  const count = idx.readUInt32BE(FANOUT_AT + 255 * 4);
  let lo = first === 0 ? 0 : idx.readUInt32BE(FANOUT_AT + (first - 1) * 4);
  let hi = idx.readUInt32BE(FANOUT_AT + first * 4);
  if (idx.length < SHAS_AT + count * 28) throw new Error('truncated pack index');
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = idx.compare(want, 0, 20, SHAS_AT + mid * 20, SHAS_AT + mid * 20 + 20);
    if (cmp === 0) {
      const offsetsAt = SHAS_AT + count * 24; // after the ids and their CRCs
      const small = idx.readUInt32BE(offsetsAt + mid * 4);
      if ((small & 0x80000000) === 0) return small;
      // Packs past 2 GiB keep the offset in a table of 8-byte entries after the 4-byte ones.
      return Number(idx.readBigUInt64BE(offsetsAt + count * 4 + (small & 0x7fffffff) * 8));
    }
    // Negative: the id at `mid` sorts before `want`.
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return null;
}

async function packedObjectSize(packFile: string, offset: number): Promise<number> {
  const buf = await readAt(packFile, offset, HEAD_READ);
  const header = readObjectHeader(buf, 0);
  return header.delta ? deltaResultSize(buf.subarray(header.dataAt)) : header.size;
}

/**
 * The header of the pack entry at `at`: its size field (a delta's own size for a delta), how far
 * back an ofs-delta's base is (`baseDistance`) and where its deflated data starts (after a
 * delta's base offset or base id: a ref-delta's id is the 20 bytes before `dataAt`).
 */
export function readObjectHeader(
  buf: Buffer,
  at: number,
): { type: number; size: number; delta: boolean; dataAt: number; baseDistance?: number } {
  let i = at;
  let c = byteAt(buf, i++);
  const type = (c >> 4) & 7;
  let size = c & 15;
  let scale = 16;
  while (c & 0x80) {
    c = byteAt(buf, i++);
    size += (c & 0x7f) * scale;
    scale *= 128;
  }
  if (type === OFS_DELTA) {
    // Not a plain varint: each continuation adds one (gitformat-pack.txt, "offset encoding").
    c = byteAt(buf, i++);
    let distance = c & 0x7f;
    while (c & 0x80) {
      c = byteAt(buf, i++);
      distance = (distance + 1) * 128 + (c & 0x7f);
    }
    return { type, size, delta: true, dataAt: i, baseDistance: distance };
  }
  if (type === REF_DELTA) i += 20;
  return { type, size, delta: type === REF_DELTA, dataAt: i };
}

/** The size of the object a delta makes, from the start of its deflated data. */
export function deltaResultSize(deflated: Buffer): number {
  // The delta starts with two sizes, its base's and its result's; the result's is the object's.
  const delta = inflatePrefix(deflated.subarray(0, HEAD_READ));
  let at = 0;
  let size = 0;
  for (let n = 0; n < 2; n++) {
    size = 0;
    let scale = 1;
    let c: number;
    do {
      c = byteAt(delta, at++);
      size += (c & 0x7f) * scale;
      scale *= 128;
    } while (c & 0x80);
  }
  return size;
}

/** Inflates what it can of the start of a deflate stream (truncated input is expected). */
function inflatePrefix(deflated: Buffer): Buffer {
  return inflateSync(deflated, { finishFlush: constants.Z_SYNC_FLUSH });
}

function byteAt(buf: Buffer, i: number): number {
  const b = buf[i];
  if (b === undefined) throw new Error('truncated git object header');
  return b;
}

async function readAt(file: string, position: number, length: number): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
