import { describe, expect, it } from 'vitest';
import { keyChooser, zipfCdf } from '../src/contended/key-chooser.js';

function counts(keys: number, s: number, seed: number, draws: number): number[] {
  const choose = keyChooser(keys, s, seed);
  const seen = new Array<number>(keys).fill(0);
  for (let i = 0; i < draws; i++) seen[choose()]!++;
  return seen;
}

describe('Zipf key choice', () => {
  it('gives the same sequence for a seed and another for another seed', () => {
    const a = keyChooser(100, 1.1, 7);
    const b = keyChooser(100, 1.1, 7);
    const c = keyChooser(100, 1.1, 8);
    const first = Array.from({ length: 50 }, a);
    expect(Array.from({ length: 50 }, b)).toEqual(first);
    expect(Array.from({ length: 50 }, c)).not.toEqual(first);
  });

  it('draws uniformly at s = 0, every key within 10 % of its share', () => {
    const seen = counts(10, 0, 1, 100_000);
    for (const n of seen) expect(Math.abs(n - 10_000)).toBeLessThan(1_000);
  });

  it('draws key k with probability (1/(k+1)^s) / H(N, s)', () => {
    // Zipf(1) over 4 keys: weights 1, 1/2, 1/3, 1/4; H = 25/12.
    const cdf = zipfCdf(4, 1);
    expect([...cdf].map((p) => Math.round(p * 1e6) / 1e6)).toEqual([0.48, 0.72, 0.88, 1]);
    const seen = counts(4, 1, 3, 200_000);
    const expected = [0.48, 0.24, 0.16, 0.12].map((p) => p * 200_000);
    seen.forEach((n, k) => expect(Math.abs(n - expected[k]!)).toBeLessThan(expected[k]! * 0.05));
  });

  it('makes the hottest key hotter as s grows', () => {
    const share = (s: number): number => counts(64, s, 5, 50_000)[0]! / 50_000;
    expect(share(0.5)).toBeLessThan(share(1));
    expect(share(1)).toBeLessThan(share(2));
  });

  it('stays within the key space, also on a draw of nearly 1', () => {
    const cdf = zipfCdf(1_000, 0.9);
    expect(cdf[cdf.length - 1]).toBe(1);
    for (const k of counts(1_000, 0.9, 11, 20_000).keys()) expect(k).toBeLessThan(1_000);
  });

  it('refuses an empty key space', () => {
    expect(() => keyChooser(0, 0, 1)).toThrow(RangeError);
  });
});
