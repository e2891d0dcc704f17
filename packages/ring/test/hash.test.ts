import { describe, expect, it } from 'vitest';
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
});
