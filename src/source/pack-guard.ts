/**
 * A fetched pack checked before isomorphic-git indexes it. Indexing inflates every object to hash
 * it, so a blob of gigabytes that deflates to a few hundred KiB (zeros do, ~1000:1) passes the
 * pack size cap and would then be inflated whole in the controller. Each object's header carries
 * its inflated size (a delta's first bytes carry the size of what it makes): an object over the
 * blob cap is refused from its header, before a byte of it is inflated.
 *
 * The hook is the file system isomorphic-git is given: it writes the pack (already in memory)
 * just before indexing it, and a write that throws ends the fetch with that error. The same hook
 * indexes the pack natively (pack-index.ts), which also checks every size on the way.
 */
import * as fs from 'node:fs';
import { inflateSync } from 'node:zlib';
import { deltaResultSize, readObjectHeader } from './object-size.js';
import { indexPack } from './pack-index.js';

/** The first object of `pack` whose inflated size is over `maxBytes`, or null when none is. */
export function oversizedObject(pack: Buffer, maxBytes: number): { size: number } | null {
  if (pack.length < 12 || pack.toString('latin1', 0, 4) !== 'PACK') return null; // not ours to judge
  const count = pack.readUInt32BE(8);
  let at = 12;
  for (let n = 0; n < count; n++) {
    const header = readObjectHeader(pack, at);
    at = header.dataAt;
    if (header.size > maxBytes) return { size: header.size };
    if (header.delta) {
      const made = deltaResultSize(pack.subarray(at));
      if (made > maxBytes) return { size: made };
    }
    // Skips the object's deflated data by inflating it (at most maxBytes, checked above): the
    // pack format records no compressed lengths.
    const { engine } = inflateSync(pack.subarray(at), {
      info: true,
      maxOutputLength: Math.max(1, header.size),
    }) as unknown as { engine: { bytesWritten: number } };
    at += engine.bytesWritten;
  }
  return null;
}

/**
 * Thrown by the file system of {@link packGuardedFs} once it wrote a pack and its index itself:
 * it ends isomorphic-git's fetch right where it would start indexing in JavaScript (the last step
 * of its fetch, after refs and the shallow file are written). The caller reads the fetched head
 * from the remote-tracking ref.
 */
export class PackIndexedNatively extends Error {
  constructor(readonly objects: number) {
    super('pack indexed natively');
  }
}

/**
 * `node:fs` for isomorphic-git, except that writing a pack under `objects/pack/` first checks
 * every object's size (`refuse` makes the error for one too large), then writes the pack and
 * the index {@link indexPack} computed and throws {@link PackIndexedNatively}. A pack it cannot
 * index (or every pack, with `native` false) is written as before and left to isomorphic-git.
 */
export function packGuardedFs(
  maxBytes: number,
  refuse: (size: number) => Error,
  native = true,
): typeof fs {
  // isomorphic-git retries a write that throws (after a mkdir, in case the folder was missing):
  // the pack's outcome is kept, so the retry ends the same way without indexing it again.
  const outcomes = new Map<string, Error>();
  const writeFile: typeof fs.promises.writeFile = async (file, data, opts) => {
    if (
      typeof file === 'string' &&
      Buffer.isBuffer(data) &&
      /[\\/]objects[\\/]pack[\\/][^\\/]+\.pack$/.test(file)
    ) {
      const known = outcomes.get(file);
      if (known) throw known;
      const outcome = await guardPack(file, data, opts);
      if (outcome) {
        outcomes.set(file, outcome);
        throw outcome;
      }
    }
    return fs.promises.writeFile(file, data, opts);
  };
  /** Indexes or checks the pack; the error that ends the fetch, or undefined to write it as is. */
  const guardPack = async (
    file: string,
    data: Buffer,
    opts: Parameters<typeof fs.promises.writeFile>[2],
  ): Promise<Error | undefined> => {
    const indexed = native ? indexPack(data, maxBytes) : null;
    if (indexed?.kind === 'oversized') return refuse(indexed.size);
    if (indexed?.kind === 'index') {
      // The index last: a pack without one is ignored by readers, never half-read.
      await fs.promises.writeFile(file, data, opts);
      await fs.promises.writeFile(file.replace(/\.pack$/, '.idx'), indexed.idx);
      return new PackIndexedNatively(indexed.objects);
    }
    const found = oversizedObject(data, maxBytes);
    return found ? refuse(found.size) : undefined;
  };
  return { ...fs, promises: { ...fs.promises, writeFile } } as typeof fs;
}
