// The `hashring` package, the ring the lookup speed is compared with, and the call loops the
// bench times on it.
import { createRequire } from 'node:module';

/** The part of a `hashring` ring the bench uses (the package is CommonJS without types). */
export interface Hashring {
  get(key: string): string | undefined;
  readonly ring: readonly unknown[];
  readonly cache: { get(key: string): unknown; readonly maxSize: number };
}

/** The `hashring` constructor, with its `version`. */
export interface HashringClass {
  new (
    servers: Record<string, number>,
    algorithm: 'md5',
    options: { 'max cache size'?: number },
  ): Hashring;
  readonly version: string;
}

/** The `hashring` package, loaded through `require` since it is CommonJS. */
export const Hashring = createRequire(import.meta.url)('hashring') as HashringClass;

/** Timed lookups on a `hashring` ring, and a count of its cache hits. */
export interface HashringCalls {
  /** Looks up `count` keys from where the last call stopped; returns the summed id lengths. */
  readonly calls: (count: number) => number;
  /** Over one more full cycle from there, how many keys were in the ring's LRU cache. */
  readonly hits: () => number;
}

/**
 * `hashring.get()` over the keys in a cycle. Each ring gets its own closures, so every call
 * site sees one receiver class and stays monomorphic.
 */
export function hashringCalls(ring: Hashring, keys: readonly string[]): HashringCalls {
  let at = 0;
  const calls = (count: number): number => {
    let sum = 0;
    for (let i = 0; i < count; i++, at = (at + 1) % keys.length) sum += ring.get(keys[at]!)!.length;
    return sum;
  };
  const hits = (): number => {
    let hit = 0;
    for (let i = 0; i < keys.length; i++, at = (at + 1) % keys.length) {
      if (ring.cache.get(keys[at]!) !== undefined) hit++;
      ring.get(keys[at]!);
    }
    return hit;
  };
  return { calls, hits };
}

/** What `hashring` does with a cache size of 0, tried rather than assumed. */
export function zeroCache(): string {
  try {
    new Hashring({ '127.0.0.1:7000': 1 }, 'md5', { 'max cache size': 0 }).get('key');
    return 'works';
  } catch (error) {
    return `throws ${String(error)}`;
  }
}
