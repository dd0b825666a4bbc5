/**
 * Git's delta format (`Documentation/gitformat-pack.txt`, "Deltified representation"): two sizes
 * (the base's, the result's), then ops that copy a range of the base or insert literal bytes.
 * Pure: Buffers in, a Buffer out.
 */

/** The sizes a delta starts with: of the base it applies to and of what it makes. */
export function deltaSizes(delta: Buffer): { base: number; result: number; opsAt: number } {
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
  const base = varint();
  const result = varint();
  return { base, result, opsAt: i };
}

/**
 * Applies a git delta to `base`, or null when the delta is malformed or makes an object over
 * `maxBytes`. With `headroom`, the result is written that many bytes into a larger buffer, so a
 * caller can put a header in front without copying it: `framed` is the whole buffer.
 */
export function applyDelta(base: Buffer, delta: Buffer, maxBytes = Infinity): Buffer | null {
  return applyDeltaFramed(base, delta, maxBytes, 0)?.data ?? null;
}

/** {@link applyDelta}, leaving `headroom` bytes in front of the result in `framed`. */
export function applyDeltaFramed(
  base: Buffer,
  delta: Buffer,
  maxBytes: number,
  headroom: number,
): { data: Buffer; framed: Buffer } | null {
  const sizes = deltaSizes(delta);
  if (sizes.base !== base.length || sizes.result > maxBytes) return null;
  const size = sizes.result;
  const framed = Buffer.allocUnsafe(headroom + size);
  const out = framed.subarray(headroom);
  let i = sizes.opsAt;
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
  return o === size ? { data: out, framed } : null;
}
