import { describe, expect, it } from 'vitest';
import { murmur3Ascii } from '../src/hash.js';
import { HashRing, murmur3 } from '../src/index.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

// Published MurmurHash3_x86_32 vectors (SMHasher's algorithm); a client in another
// language that passes these hashes keys the way this ring does.
const VECTORS: [string, number, number][] = [
  ['', 0, 0x00000000],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['\0\0\0\0', 0, 0x2362f9de],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['aaa', 0x9747b28c, 0x283e0130],
  ['aa', 0x9747b28c, 0x5d211726],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['abcd', 0x9747b28c, 0xf0478627],
  ['abc', 0x9747b28c, 0xc84a62dd],
  ['ab', 0x9747b28c, 0x74875592],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
];

describe('murmur3', () => {
  it.each(VECTORS)('hashes %j with seed %i to the published value', (text, seed, expected) => {
    expect(murmur3(utf8(text), seed)).toBe(expected);
  });

  it('hashes a string key as its UTF-8 bytes', () => {
    const ring = new HashRing(['a', 'b', 'c', 'd', 'e']);
    for (const key of ['plain', 'ünïcödé', '鍵', '🔒 lock', 'x'.repeat(5000)]) {
      expect(ring.owner(key)).toBe(ring.owner(utf8(key)));
    }
  });

  it('hashes an ASCII string from its char codes exactly as its bytes, and refuses any other', () => {
    // A fixed sequence (xorshift32), so a failure replays.
    let state = 0x9e3779b9;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    for (let n = 0; n < 3_000; n++) {
      const length = next() % 70;
      const text = String.fromCharCode(...Array.from({ length }, () => next() & 0x7f));
      const seed = n % 3 === 0 ? 0 : next();
      expect(murmur3Ascii(text, seed)).toBe(murmur3(utf8(text), seed));
    }
    for (const [text, seed, expected] of VECTORS.filter(([text]) => /^[\0-\x7f]*$/.test(text))) {
      expect(murmur3Ascii(text, seed)).toBe(expected);
    }
    // A non-ASCII char in any position of the last word or a whole one is left to the bytes.
    for (const text of ['\x80', 'ab\u00e9', 'abc\u00e9', 'abcd\u00e9fgh', '\uD800', 'é']) {
      expect(murmur3Ascii(text, 0)).toBe(-1);
    }
  });
});
