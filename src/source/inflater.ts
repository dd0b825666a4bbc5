/**
 * Inflates the zlib streams of a pack, one object at a time, each into a buffer of the size its
 * header declares. `zlib.inflateSync` builds a stream object and a native zlib state per call:
 * for the tens of thousands of small objects of a pack, that set-up (and its garbage) cost more
 * than the inflating. This keeps one native zlib handle and resets it between objects.
 *
 * The handle is node's, reached through `zlib.Inflate` internals (`_handle.writeSync`,
 * `_writeState`), the calls `inflateSync` itself makes. They are probed once on a known stream;
 * on a node where they differ, every object goes through `inflateSync` as before.
 */
import { Inflate, constants, deflateSync, inflateSync } from 'node:zlib';

/** One object inflated: `framed` is `headroom` bytes then its content; where its data ended. */
export interface Inflated {
  readonly framed: Buffer;
  readonly end: number;
}

interface NativeHandle {
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
}

type NativeInflate = Inflate & { _handle?: NativeHandle | null; _writeState?: Uint32Array };

/** Whether node's handle behaves as this file expects; probed once, on a stream of known bytes. */
let nativeWorks: boolean | undefined;

/** One inflater, reusable across the objects of a pack; close() it when the pack is done. */
export class Inflater {
  private stream: NativeInflate | null = null;
  private scratch = Buffer.allocUnsafeSlow(64 * 1024);

  /**
   * Inflates the zlib stream at `src[at]`, which must make exactly `size` bytes, into a buffer
   * with `headroom` bytes free in front (for a header the caller writes). With `transient`, that
   * buffer is this inflater's own and is overwritten by the next call: for content that is
   * hashed and dropped. Throws when the stream makes more or fewer bytes, or is corrupt or cut.
   */
  inflate(src: Buffer, at: number, size: number, headroom = 0, transient = false): Inflated {
    nativeWorks ??= probeNative();
    if (nativeWorks) this.stream ??= openNative();
    if (this.stream === null) return inflateWhole(src, at, size, headroom);
    // One byte of room past `size`: an object longer than it says fills it and is refused, one
    // that ends in time leaves it empty.
    const room = headroom + size + 1;
    let out: Buffer;
    if (!transient) out = Buffer.allocUnsafe(room);
    else {
      // Grown by doubling up to 16 MiB, then to what one object needs: never twice a huge blob.
      if (this.scratch.length < room) {
        this.scratch = Buffer.allocUnsafeSlow(Math.max(room, Math.min(2 * room, 1 << 24)));
      }
      out = this.scratch;
    }
    try {
      const end = inflateNative(this.stream, src, at, out, headroom, size + 1);
      return { framed: out.subarray(0, headroom + size), end };
    } catch (e) {
      // A zlib error destroys the stream (and its handle): the next object gets a new one.
      if (this.stream.destroyed) this.stream = null;
      throw e;
    }
  }

  /** Lets the native zlib state go; the next inflate makes a new one. */
  close(): void {
    this.stream?.close();
    this.stream = null;
  }
}

function openNative(): NativeInflate | null {
  const stream = new Inflate() as NativeInflate;
  // A zlib error is also emitted as an event, later: inflate() has already thrown it.
  stream.on('error', () => undefined);
  if (
    typeof stream._handle?.writeSync !== 'function' ||
    !(stream._writeState instanceof Uint32Array)
  ) {
    stream.close();
    return null;
  }
  return stream;
}

/**
 * Inflates one whole zlib stream from `src[at]` into `out[outAt..outAt+room]`; returns where the
 * stream ended in `src`. Exactly `room - 1` bytes must come out (a stream cut short is zlib's
 * error under Z_FINISH).
 */
function inflateNative(
  stream: NativeInflate,
  src: Buffer,
  at: number,
  out: Buffer,
  outAt: number,
  room: number,
): number {
  const handle = stream._handle;
  const state = stream._writeState;
  if (!handle || !state) throw new Error('zlib handle closed');
  handle.reset();
  handle.writeSync(constants.Z_FINISH, src, at, src.length - at, out, outAt, room);
  if (stream.destroyed) throw new Error('corrupt deflate stream in pack');
  if (state[0] !== 1) throw new Error('pack object inflates to another size than it declares');
  return src.length - (state[1] ?? 0);
}

const PROBE = Buffer.from('gantry pack inflater probe');

function probeNative(): boolean {
  const stream = openNative();
  if (stream === null) return false;
  try {
    const deflated = Buffer.concat([deflateSync(PROBE), Buffer.from('next')]);
    const out = Buffer.alloc(PROBE.length + 3);
    const end = inflateNative(stream, deflated, 0, out, 2, PROBE.length + 1);
    return out.subarray(2, 2 + PROBE.length).equals(PROBE) && end === deflated.length - 4;
  } catch {
    return false;
  } finally {
    stream.close();
  }
}

/** The same through `inflateSync`: one zlib state per object. */
function inflateWhole(src: Buffer, at: number, size: number, headroom: number): Inflated {
  const { buffer, engine } = inflateSync(src.subarray(at), {
    info: true,
    maxOutputLength: size + 1,
    chunkSize: Math.min(Math.max(64, size + 1), 1 << 20),
  }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  if (buffer.length !== size) {
    throw new Error('pack object inflates to another size than it declares');
  }
  const framed = headroom === 0 ? buffer : Buffer.concat([Buffer.alloc(headroom), buffer]);
  return { framed, end: at + engine.bytesWritten };
}
