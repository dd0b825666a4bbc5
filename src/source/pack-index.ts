/**
 * A pack index (`.idx` v2) computed with node's native zlib and SHA-1, for a pack just fetched.
 * isomorphic-git indexes a pack in JavaScript (pako inflate, one async SHA-1 per object through
 * WebCrypto, an O(256·n) fanout): most of a clone's time. This does the same job as
 * `git index-pack` for the packs isomorphic-git asks for (no thin packs: every delta base is in
 * the pack), and gives up (null) on anything else so the caller can fall back.
 *
 * Formats: git's `Documentation/gitformat-pack.txt`. Pure: a Buffer in, a Buffer out.
 */
import * as crypto from 'node:crypto';
import { crc32 } from 'node:zlib';
import { applyDeltaFramed, deltaSizes } from './git-delta.js';
import { Inflater } from './inflater.js';
import { readObjectHeader } from './object-size.js';

const TYPES = ['', 'commit', 'tree', 'blob', 'tag'] as const;
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Deltas kept inflated from the first pass to the second; past this, they are inflated again. */
const KEPT_DELTA_BYTES = 64 * 1024 * 1024;
const ARENA_CHUNK = 1024 * 1024;

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
  /** A delta's inflated instructions, kept from the first pass for the second. */
  delta?: Buffer | undefined;
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
  const inflater = new Inflater();
  try {
    const pass = firstPass(pack, maxBytes, inflater);
    if (pass === null || 'kind' in pass) return pass;
    const failed = resolveDeltas(pack, maxBytes, inflater, pass);
    if (failed !== undefined) return failed;
    if (pass.entries.some((e) => e.oid === undefined)) return null; // a base outside the pack
    return { kind: 'index', idx: writeIndex(pack, pass.entries), objects: pass.entries.length };
  } finally {
    inflater.close();
  }
}

/** The pack's entries, whole objects identified; deltas listed under their bases. */
interface Parsed {
  entries: Entry[];
  byBaseOffset: Map<number, Entry[]>;
  byBaseOid: Map<string, Entry[]>;
}

/**
 * The first pass, in pack order: each object is inflated (bounded by its declared size, checked
 * first), which also finds where it ends (the format records no compressed lengths). A whole
 * object is identified at once and its content dropped; a delta's instructions (small) are kept
 * for the second pass. Nothing large outlives its own step, so the garbage stays young.
 */
function firstPass(
  pack: Buffer,
  maxBytes: number,
  inflater: Inflater,
): Parsed | PackIndexResult | null {
  const count = pack.readUInt32BE(8);
  const body = pack.subarray(0, pack.length - 20); // without the trailing checksum
  const parsed: Parsed = { entries: [], byBaseOffset: new Map(), byBaseOid: new Map() };
  const kept = new Arena();
  let at = 12;
  for (let n = 0; n < count; n++) {
    const header = readObjectHeader(pack, at);
    if (header.size > maxBytes) return { kind: 'oversized', size: header.size };
    const e: Entry = {
      offset: at,
      end: 0,
      type: header.type,
      size: header.size,
      dataAt: header.dataAt,
    };
    if (header.type === OFS_DELTA) {
      e.baseOffset = at - (header.baseDistance ?? 0);
      listUnder(parsed.byBaseOffset, e.baseOffset, e);
    } else if (header.type === REF_DELTA) {
      e.baseOid = pack.toString('hex', header.dataAt - 20, header.dataAt);
      listUnder(parsed.byBaseOid, e.baseOid, e);
    } else if (TYPES[header.type] === undefined || header.type === 0) {
      return null;
    }
    const head = header.delta ? '' : objectHead(header.type, header.size);
    const { end, framed } = inflater.inflate(body, e.dataAt, header.size, head.length, true);
    if (!header.delta) e.oid = objectId(framed, head);
    else if (kept.bytes + header.size <= KEPT_DELTA_BYTES) e.delta = kept.copy(framed);
    e.end = end;
    at = end;
    parsed.entries.push(e);
  }
  return at === body.length ? parsed : null;
}

/**
 * The second pass: from each whole object that is a base, down its tree of deltas, depth first.
 * A base's content lives only while the deltas made from it are applied; no cache, no order of
 * the pack assumed (a ref-delta may come before its base).
 */
function resolveDeltas(
  pack: Buffer,
  maxBytes: number,
  inflater: Inflater,
  { entries, byBaseOffset, byBaseOid }: Parsed,
): PackIndexResult | null | undefined {
  const body = pack.subarray(0, pack.length - 20);
  const deltasOf = (e: Entry): Entry[] => {
    const ofs = byBaseOffset.get(e.offset) ?? [];
    const ref = e.oid === undefined ? undefined : byBaseOid.get(e.oid);
    return ref === undefined ? ofs : [...ofs, ...ref];
  };
  interface Frame {
    type: number;
    data: Buffer;
    deltas: Entry[];
    next: number;
  }
  for (const root of entries) {
    if (root.type === OFS_DELTA || root.type === REF_DELTA) continue;
    const deltas = deltasOf(root);
    if (deltas.length === 0) continue;
    const data = inflater.inflate(body, root.dataAt, root.size, 0).framed;
    const stack: Frame[] = [{ type: root.type, data, deltas, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const e = top.deltas[top.next++];
      if (e === undefined) {
        stack.pop();
        continue;
      }
      if (e.oid !== undefined) continue;
      const delta = e.delta ?? inflater.inflate(body, e.dataAt, e.size, 0, true).framed;
      e.delta = undefined;
      const size = deltaSizes(delta).result;
      if (size > maxBytes) return { kind: 'oversized', size };
      const head = objectHead(top.type, size);
      const made = applyDeltaFramed(top.data, delta, maxBytes, head.length);
      if (made === null) return null;
      e.oid = objectId(made.framed, head);
      const next = deltasOf(e);
      if (next.length > 0) stack.push({ type: top.type, data: made.data, deltas: next, next: 0 });
    }
  }
  return undefined;
}

function listUnder<K>(map: Map<K, Entry[]>, key: K, e: Entry): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [e]);
  else list.push(e);
}

/** The header git hashes in front of an object's content: `<type> <size>\0`. */
function objectHead(type: number, size: number): string {
  return `${TYPES[type] ?? ''} ${size}\0`;
}

// One call per object: node's one-shot hash (20.12+) skips building a Hash stream per object.
const sha1Hex: (data: Buffer) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha1', data, 'hex')
    : (data) => crypto.createHash('sha1').update(data).digest('hex');

/** The id git gives an object: SHA-1 of `<type> <size>\0<content>`, the head written in front. */
function objectId(framed: Buffer, head: string): string {
  framed.write(head, 0, 'latin1');
  return sha1Hex(framed);
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
  crypto.createHash('sha1').update(out.subarray(0, at)).digest().copy(out, at);
  return out;
}

/** Copies of small buffers packed into large chunks: many small lives, one allocation each 1 MiB. */
class Arena {
  bytes = 0;
  private chunk = Buffer.alloc(0);
  private at = 0;

  copy(b: Buffer): Buffer {
    this.bytes += b.length;
    if (b.length > ARENA_CHUNK / 4) return Buffer.from(b);
    if (this.at + b.length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(ARENA_CHUNK);
      this.at = 0;
    }
    b.copy(this.chunk, this.at);
    this.at += b.length;
    return this.chunk.subarray(this.at - b.length, this.at);
  }
}
