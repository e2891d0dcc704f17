import { mulberry32 } from '../ring-metrics.js';

/** Picks the next hot key's index, from 0 to `keys − 1`. */
export type KeyChooser = () => number;

/** The largest key space `--zipf` takes: its table holds one float per key. */
export const MAX_ZIPF_KEYS = 1_000_000;

/**
 * The cumulative Zipf distribution over `keys` ranks with exponent `s`: entry `k` is the
 * probability of a rank ≤ k, where rank k (0-based) weighs `1 / (k + 1)^s`. `s = 0` is uniform.
 */
export function zipfCdf(keys: number, s: number): Float64Array {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let k = 0; k < keys; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  for (let k = 0; k < keys; k++) cdf[k]! /= total;
  // Rounding may leave the last entry a hair under 1; a draw of 0.9999999 must still land.
  cdf[keys - 1] = 1;
  return cdf;
}

/**
 * A deterministic key chooser for one worker: the same `seed` gives the same sequence of key
 * indexes. `s = 0` draws uniformly; `s > 0` draws from Zipf(s) over `keys`, key 0 the hottest
 * (inverse transform sampling: a binary search in the cumulative table, O(log keys) a draw).
 * @throws {RangeError} when `keys` is not a positive integer, or `s > 0` with more than
 *   {@link MAX_ZIPF_KEYS} keys
 */
export function keyChooser(keys: number, s: number, seed: number): KeyChooser {
  if (!Number.isInteger(keys) || keys < 1) {
    throw new RangeError(`keys must be a positive integer, received ${keys}`);
  }
  const random = mulberry32(seed);
  if (s === 0) return () => Math.floor(random() * keys);
  if (keys > MAX_ZIPF_KEYS) {
    throw new RangeError(`a Zipf skew takes at most ${MAX_ZIPF_KEYS} keys, received ${keys}`);
  }
  const cdf = zipfCdf(keys, s);
  return () => {
    const u = random();
    let low = 0;
    let high = keys - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cdf[middle]! > u) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}
