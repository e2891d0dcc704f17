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
