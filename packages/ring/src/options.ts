import { describe, RingError } from './errors.js';
import { murmur3, type HashFunction } from './hash.js';

/** Options of a {@link HashRing}. Every process that shares a ring must use the same ones. */
export interface RingOptions {
  /**
   * Virtual nodes (points on the ring) per unit of weight. More points even out the share
   * of each node (relative spread ≈ `1 / sqrt(vnodes)`) at the price of memory and build time.
   * @default 4096
   */
  readonly vnodes?: number;
  /**
   * Seed of the hash, an unsigned 32-bit integer. Rings with different seeds place keys
   * independently.
   * @default 0
   */
  readonly seed?: number;
  /**
   * Hash of bytes to an unsigned 32-bit integer, used for keys and for virtual-node labels.
   * @default murmur3 (MurmurHash3 x86 32-bit, from the `murmurhash` package)
   */
  readonly hash?: HashFunction;
}

/** {@link RingOptions} with every default applied. */
export interface ResolvedRingOptions {
  readonly vnodes: number;
  readonly seed: number;
  readonly hash: HashFunction;
}

/** The defaults of {@link RingOptions}. */
export const DEFAULT_RING_OPTIONS: ResolvedRingOptions = Object.freeze({
  vnodes: 4096,
  seed: 0,
  hash: murmur3,
});

/** Largest `vnodes` a ring accepts. */
export const MAX_VNODES = 65_536;
/** Largest weight of one node. */
export const MAX_WEIGHT = 1_000;
/** Most points (virtual nodes over all nodes) one ring holds: 16 Mi, about 100 MiB of arrays. */
export const MAX_POINTS = 2 ** 24;

const KNOWN = new Set(['vnodes', 'seed', 'hash']);

/**
 * Applies defaults to `options` and validates them.
 * @throws {@link RingError} `ERR_RING_INVALID_OPTION` for an unknown option or a value out of range
 */
export function resolveRingOptions(options: RingOptions = {}): ResolvedRingOptions {
  // Checked at run time too: JavaScript callers can pass anything.
  const raw: unknown = options;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new RingError(
      'ERR_RING_INVALID_OPTION',
      `ring options must be an object, received ${describe(options)}`,
    );
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) {
      throw new RingError(
        'ERR_RING_INVALID_OPTION',
        `unknown ring option ${JSON.stringify(name)}; known: vnodes, seed, hash`,
      );
    }
  }
  const vnodes = options.vnodes ?? DEFAULT_RING_OPTIONS.vnodes;
  if (!Number.isInteger(vnodes) || vnodes < 1 || vnodes > MAX_VNODES) {
    throw new RingError(
      'ERR_RING_INVALID_OPTION',
      `vnodes must be an integer from 1 to ${MAX_VNODES}, received ${describe(vnodes)}`,
    );
  }
  const seed = options.seed ?? DEFAULT_RING_OPTIONS.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RingError(
      'ERR_RING_INVALID_OPTION',
      `seed must be an integer from 0 to 2^32-1, received ${describe(seed)}`,
    );
  }
  const hash = options.hash ?? DEFAULT_RING_OPTIONS.hash;
  if (typeof hash !== 'function') {
    throw new RingError(
      'ERR_RING_INVALID_OPTION',
      `hash must be a function (bytes, seed) => uint32, received ${describe(hash)}`,
    );
  }
  return Object.freeze({ vnodes, seed, hash });
}
