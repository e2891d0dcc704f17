/**
 * The ring's sorted points with a bucket index on their top bits, so a lookup reads one
 * index entry and binary-searches a bucket of about one point instead of the whole array.
 */
export interface PointIndex {
  /** Point hashes, ascending. */
  readonly points: Uint32Array;
  /** `starts[b]` is the first point whose top `bits` bits are `>= b`; length `2^bits + 1`. */
  readonly starts: Uint32Array;
  /** `32 - bits`: shifts a hash down to its bucket. */
  readonly shift: number;
}

const MAX_INDEX_BITS = 20;

/** Builds the bucket index of ascending `points` (about one point per bucket). */
export function indexPoints(points: Uint32Array): PointIndex {
  const bits = Math.min(MAX_INDEX_BITS, Math.max(1, Math.ceil(Math.log2(points.length + 1))));
  const shift = 32 - bits;
  const buckets = 2 ** bits;
  const starts = new Uint32Array(buckets + 1);
  let p = 0;
  for (let b = 0; b <= buckets; b++) {
    while (p < points.length && points[p]! >>> shift < b) p++;
    starts[b] = p;
  }
  return { points, starts, shift };
}

/**
 * The index of the first point at or after `hash` clockwise, wrapping to 0 past the last
 * point. The ring must have at least one point.
 */
export function successor(index: PointIndex, hash: number): number {
  const { points, starts } = index;
  const bucket = hash >>> index.shift;
  let lo = starts[bucket]!;
  let hi = starts[bucket + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]! < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo === points.length ? 0 : lo;
}
