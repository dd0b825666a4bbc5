/**
 * A pack index (`.idx` v2) computed with node's native zlib and SHA-1, for a pack just fetched.
 * isomorphic-git indexes a pack in JavaScript (pako inflate, one async SHA-1 per object through
 * WebCrypto, an O(256·n) fanout): most of a clone's time. This does the same job as
 * `git index-pack` for the packs isomorphic-git asks for (no thin packs: every delta base is in
 * the pack), and gives up (null) on anything else so the caller can fall back.
 *
 * Formats: git's `Documentation/gitformat-pack.txt`. Pure: a Buffer in, a Buffer out.
 */
import { createHash } from 'node:crypto';
import { crc32, inflateSync } from 'node:zlib';
import { readObjectHeader } from './object-size.js';

const TYPES = ['', 'commit', 'tree', 'blob', 'tag'] as const;
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Inflated bases kept for the deltas that follow them; a miss re-inflates from the pack. */
const BASE_CACHE_BYTES = 32 * 1024 * 1024;

/** What indexing a pack gave: the index, or the first object over the size cap. */
export type PackIndexResult =
  { kind: 'index'; idx: Buffer; objects: number } | { kind: 'oversized'; size: number };

interface Entry {
  offset: number;
  end: number;
  type: number;
  size: number;
  dataAt: number;
  /** The base's pack offset (ofs-delta) or id (ref-delta). */
  baseOffset?: number;
  baseOid?: string;
  oid?: string;
}

interface Resolved {
  type: number;
  data: Buffer;
}

/**
 * Indexes `pack`, refusing (before inflating it) any object whose inflated size is over
 * `maxBytes`. Returns null for a pack it does not handle (a base outside the pack, a pack over
 * 2 GiB, a malformed entry): the caller then lets isomorphic-git index it.
 */
export function indexPack(pack: Buffer, maxBytes: number): PackIndexResult | null {
  try {
    return indexPackOrThrow(pack, maxBytes);
  } catch {
    // Truncated or corrupt: isomorphic-git indexes it again and reports what is wrong.
    return null;
  }
}

function indexPackOrThrow(pack: Buffer, maxBytes: number): PackIndexResult | null {
  if (pack.length < 32 || pack.toString('latin1', 0, 4) !== 'PACK') return null;
  if (pack.readUInt32BE(4) !== 2 || pack.length >= 2 ** 31) return null;
  const count = pack.readUInt32BE(8);
  const entries: Entry[] = [];
  const byOffset = new Map<number, Entry>();
  const byOid = new Map<string, Entry>();
  const cache = new BaseCache(BASE_CACHE_BYTES);
  // One output buffer of the object's own size: node's default 16 KiB chunk per call was most
  // of the cost of inflating thousands of small objects.
  const inflateOpts = (size: number) => ({
    maxOutputLength: Math.max(1, size),
    chunkSize: Math.min(Math.max(64, size), 1 << 20),
  });
  const inflate = (e: Entry): Buffer =>
    inflateSync(pack.subarray(e.dataAt, e.end), inflateOpts(e.size));
  // An entry's type and content, following its delta chain back to a cached or whole object
  // (iteratively: chains can be long in a pathological pack). `own` is the entry's inflated data.
  const resolve = (target: Entry, own?: Buffer): Resolved | null => {
    const chain: Entry[] = [];
    let base: Resolved | undefined;
    for (let e: Entry | undefined = target; ;) {
      const hit = cache.get(e.offset);
      if (hit) {
        base = hit;
        break;
      }
      if (e.type !== OFS_DELTA && e.type !== REF_DELTA) {
        base = { type: e.type, data: e === target && own ? own : inflate(e) };
        cache.set(e.offset, base);
        break;
      }
      chain.push(e);
      const next: Entry | undefined =
        e.baseOffset !== undefined ? byOffset.get(e.baseOffset) : byOid.get(e.baseOid ?? '');
      if (next === undefined || chain.length > count) return null;
      e = next;
    }
    for (let k = chain.length - 1; k >= 0; k--) {
      const e = chain[k]!;
      const data = applyDelta(base.data, e === target && own ? own : inflate(e), maxBytes);
      if (data === null) return null;
      base = { type: base.type, data };
      cache.set(e.offset, base);
    }
    return base;
  };
  const identify = (e: Entry, own?: Buffer): PackIndexResult | null | undefined => {
    const r = resolve(e, own);
    if (r === null) return null;
    if (r.data.length > maxBytes) return { kind: 'oversized', size: r.data.length };
    e.oid = objectId(r);
    byOid.set(e.oid, e);
    return undefined;
  };

  // One pass in pack order: each object is inflated once (bounded by its declared size, checked
  // first), which also finds where it ends (the format records no compressed lengths), and
  // identified at once: a delta's base comes earlier and is usually still cached.
  const pending: Entry[] = [];
  let at = 12;
  for (let n = 0; n < count; n++) {
    const header = readObjectHeader(pack, at);
    if (header.size > maxBytes) return { kind: 'oversized', size: header.size };
    const e: Entry = { offset: at, end: 0, type: header.type, size: header.size, dataAt: 0 };
    let i = at + 1;
    while ((pack[i - 1] ?? 0) & 0x80) i++;
    if (header.type === OFS_DELTA) {
      let c = pack[i++] ?? 0;
      let rel = c & 0x7f;
      while (c & 0x80) {
        c = pack[i++] ?? 0;
        rel = (rel + 1) * 128 + (c & 0x7f);
      }
      e.baseOffset = at - rel;
    } else if (header.type === REF_DELTA) {
      e.baseOid = pack.toString('hex', i, i + 20);
    } else if (TYPES[header.type] === undefined || header.type === 0) {
      return null;
    }
    e.dataAt = header.dataAt;
    const { buffer, engine } = inflateSync(pack.subarray(e.dataAt, pack.length - 20), {
      ...inflateOpts(header.size),
      info: true,
    }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    e.end = e.dataAt + engine.bytesWritten;
    at = e.end;
    entries.push(e);
    byOffset.set(e.offset, e);
    if (e.type === REF_DELTA && !byOid.has(e.baseOid ?? '')) {
      pending.push(e);
      continue;
    }
    const failed = identify(e, buffer);
    if (failed !== undefined) return failed;
  }
  if (at !== pack.length - 20) return null;

  // Ref-deltas whose base came later in the pack: retry until nothing moves.
  for (let left = pending; left.length > 0;) {
    const next = left.filter((e) => !byOid.has(e.baseOid ?? ''));
    if (next.length === left.length) return null; // a base outside the pack (a thin pack)
    for (const e of left) {
      if (!byOid.has(e.baseOid ?? '')) continue;
      const failed = identify(e);
      if (failed !== undefined) return failed;
    }
    left = next;
  }
  return { kind: 'index', idx: writeIndex(pack, entries), objects: count };
}

/** The object id git gives content of a type: SHA-1 of `<type> <size>\0<content>`. */
function objectId(o: Resolved): string {
  return createHash('sha1')
    .update(`${TYPES[o.type] ?? ''} ${o.data.length}\0`, 'latin1')
    .update(o.data)
    .digest('hex');
}

/**
 * Applies a git delta to `base`, or null when the delta is malformed or makes an object over
 * `maxBytes`. A delta is two sizes (base, result) then copy (from the base) and insert ops.
 */
export function applyDelta(base: Buffer, delta: Buffer, maxBytes = Infinity): Buffer | null {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    let c: number;
    do {
      c = delta[i++] ?? 0;
      v += (c & 0x7f) * scale;
      scale *= 128;
    } while (c & 0x80 && i < delta.length);
    return v;
  };
  if (varint() !== base.length) return null;
  const size = varint();
  if (size > maxBytes) return null;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  while (i < delta.length) {
    const op = delta[i++]!;
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) off += (delta[i++] ?? 0) * 2 ** (8 * b);
      for (let b = 0; b < 3; b++) if (op & (1 << (4 + b))) len += (delta[i++] ?? 0) << (8 * b);
      if (len === 0) len = 0x10000;
      if (off + len > base.length || o + len > size) return null;
      base.copy(out, o, off, off + len);
      o += len;
    } else if (op > 0) {
      if (i + op > delta.length || o + op > size) return null;
      delta.copy(out, o, i, i + op);
      i += op;
      o += op;
    } else {
      return null; // opcode 0 is reserved
    }
  }
  return o === size ? out : null;
}

/** The `.idx` v2 bytes: fanout, sorted ids, CRC-32s, offsets, pack checksum, own checksum. */
function writeIndex(pack: Buffer, entries: readonly Entry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.oid! < b.oid! ? -1 : a.oid! > b.oid! ? 1 : 0));
  const n = sorted.length;
  const out = Buffer.alloc(8 + 256 * 4 + n * 28 + 40);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  let at = 8;
  let k = 0;
  for (let b = 0; b < 256; b++) {
    while (k < n && parseInt(sorted[k]!.oid!.slice(0, 2), 16) <= b) k++;
    out.writeUInt32BE(k, at);
    at += 4;
  }
  for (const e of sorted) at += out.write(e.oid!, at, 'hex');
  for (const e of sorted) {
    out.writeUInt32BE(crc32(pack.subarray(e.offset, e.end)) >>> 0, at);
    at += 4;
  }
  for (const e of sorted) {
    out.writeUInt32BE(e.offset, at);
    at += 4;
  }
  at += pack.copy(out, at, pack.length - 20);
  createHash('sha1').update(out.subarray(0, at)).digest().copy(out, at);
  return out;
}

/** Inflated objects by pack offset, least recently used dropped first, under a byte budget. */
class BaseCache {
  private bytes = 0;
  private readonly map = new Map<number, Resolved>();
  constructor(private readonly maxBytes: number) {}

  get(offset: number): Resolved | undefined {
    const v = this.map.get(offset);
    if (v !== undefined) {
      this.map.delete(offset);
      this.map.set(offset, v);
    }
    return v;
  }

  set(offset: number, v: Resolved): void {
    if (v.data.length > this.maxBytes / 4 || this.map.has(offset)) return;
    this.map.set(offset, v);
    this.bytes += v.data.length;
    for (const [k, old] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= old.data.length;
    }
  }
}
