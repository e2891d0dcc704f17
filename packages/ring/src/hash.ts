import murmurhash from 'murmurhash';

/**
 * A 32-bit hash of bytes. It must return an unsigned integer in `[0, 2^32)` and be
 * deterministic: every process that shares a ring must use the same function and seed.
 */
export type HashFunction = (bytes: Uint8Array, seed: number) => number;

/**
 * MurmurHash3, x86, 32-bit (Austin Appleby's `MurmurHash3_x86_32`), from the `murmurhash`
 * package. This is the ring's default and part of its wire contract: a client in another
 * language agrees with this ring when it hashes the same UTF-8 bytes with the same seed.
 */
export const murmur3: HashFunction = (bytes, seed) => murmurhash.v3(bytes, seed);

/**
 * {@link murmur3} of an ASCII string's bytes, read straight from its char codes (which are
 * its UTF-8 bytes); -1 as soon as a char is not ASCII, for the caller to encode and hash.
 * Lock keys are mostly ASCII: this skips the encode into a buffer and the well-formedness
 * scan (an ASCII string is well-formed) on every lookup.
 */
export function murmur3Ascii(text: string, seed: number): number {
  const length = text.length;
  const whole = length & ~3;
  let h = seed | 0;
  let i = 0;
  for (; i < whole; i += 4) {
    const b0 = text.charCodeAt(i);
    const b1 = text.charCodeAt(i + 1);
    const b2 = text.charCodeAt(i + 2);
    const b3 = text.charCodeAt(i + 3);
    if ((b0 | b1 | b2 | b3) > 0x7f) return -1;
    let k = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < length) {
    let k = 0;
    for (let j = length - i - 1; j >= 0; j--) {
      const b = text.charCodeAt(i + j);
      if (b > 0x7f) return -1;
      k |= b << (8 * j);
    }
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const encoder = new TextEncoder();
// One scratch buffer per module instance. Hashing is synchronous, so no caller can observe
// it between the encode and the hash; it spares a buffer allocation per lookup.
const SCRATCH = new Uint8Array(4096);
const VIEWS: (Uint8Array | undefined)[] = [];

/** A view of the first `length` bytes of the scratch buffer, made once per length. */
function scratchView(length: number): Uint8Array {
  let view = VIEWS[length];
  if (view === undefined) {
    view = SCRATCH.subarray(0, length);
    VIEWS[length] = view;
  }
  return view;
}

/** The UTF-8 bytes of `text`, in the scratch buffer when they fit (valid until the next call). */
export function utf8(text: string): Uint8Array {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit, so this bound never truncates.
  if (text.length * 3 > SCRATCH.length) return encoder.encode(text);
  return scratchView(encoder.encodeInto(text, SCRATCH).written);
}

/** UTF-8 bytes that the caller may keep. */
export function utf8Copy(text: string): Uint8Array {
  return encoder.encode(text);
}
