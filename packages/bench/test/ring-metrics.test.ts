import { describe, expect, it } from 'vitest';
import { HashRing, type HashFunction } from '@shardlock/ring';
import {
  balance,
  median,
  movementOnAdd,
  movementOnRemove,
  mulberry32,
  randomIdSets,
  sampledBalance,
  type MovementRing,
} from '../src/ring-metrics.js';
import { ID_SEED, ID_SETS } from '../src/ring-bench/inputs.js';

const SPACE = 2 ** 32;
const decoder = new TextDecoder();

/** Decimal keys hash to their number; labels such as `a#0` to the number in `table`. */
function tableHash(table: Record<string, number>): HashFunction {
  return (bytes) => {
    const text = decoder.decode(bytes);
    if (/^\d+$/.test(text)) return Number(text);
    const value = table[text];
    if (value === undefined) throw new Error(`tableHash: no point for ${text}`);
    return value;
  };
}

// One point each: a at 1/4 of the circle, b at 1/2, c (when added) at 3/4. a owns the arc
// from b round to itself (3/4), b the arc (1/4, 1/2]; c would take (1/2, 3/4] from a.
const TABLE = { 'a#0': SPACE / 4, 'b#0': SPACE / 2, 'c#0': (3 * SPACE) / 4 };
const handRing = (): HashRing => new HashRing(['a', 'b'], { vnodes: 1, hash: tableHash(TABLE) });
/** 1000 keys evenly spaced round the circle: key i hashes to floor(i / 1000 of the circle). */
const evenKey = (i: number): string => String(Math.floor((i * SPACE) / 1000));
const evenKeys = Array.from({ length: 1000 }, (_, i) => evenKey(i));
const keys = (count: number): string[] => Array.from({ length: count }, (_, i) => `k:${i}`);
const fiveNodes = (): HashRing => new HashRing(['n0', 'n1', 'n2', 'n3', 'n4']);

describe('balance', () => {
  it('is exactly 1 on a ring of one node', () => {
    expect(balance(new HashRing(['only']))).toEqual({
      maxOverMean: 1,
      minOverMean: 1,
      maxNode: 'only',
      minNode: 'only',
    });
  });

  it('gives the arc shares over the mean on a hand-built ring', () => {
    expect(balance(handRing())).toEqual({
      maxOverMean: 1.5,
      minOverMean: 0.5,
      maxNode: 'a',
      minNode: 'b',
    });
  });

  it('judges each node against its weight', () => {
    // a has twice b's weight, so about 2/3 of the space: fair, not 1.33 × the mean.
    const result = balance(new HashRing([{ id: 'a', weight: 2 }, 'b']));
    expect(result.maxOverMean).toBeLessThan(1.05);
    expect(result.minOverMean).toBeGreaterThan(0.95);
  });

  it('stays within 1.05 on 10 default nodes, and reports the node it found', () => {
    const ring = new HashRing(Array.from({ length: 10 }, (_, i) => `node-${i}`));
    const result = balance(ring);
    const shares = [...ring.shares().values()];
    expect(result.maxOverMean).toBeLessThanOrEqual(1.05);
    expect(result.maxOverMean).toBeCloseTo(Math.max(...shares) * 10, 12);
    expect(result.minOverMean).toBeCloseTo(Math.min(...shares) * 10, 12);
    expect(ring.shares().get(result.maxNode)).toBe(Math.max(...shares));
  });

  it('stays within 1.05 on the bench’s random sets of 10 ids at the default vnodes', () => {
    // Why the default is 4096: at 2048, 4 of these sets go over 1.05 (worst 1.0586).
    const maxima = randomIdSets(ID_SETS, 10, ID_SEED + 10).map(
      (set) => balance(new HashRing(set)).maxOverMean,
    );
    expect(Math.max(...maxima)).toBeLessThanOrEqual(1.05);
  });

  it('refuses an empty ring', () => {
    expect(() => balance(new HashRing([]))).toThrow(RangeError);
  });
});

describe('sampledBalance', () => {
  it('is exactly 1 on a ring of one node', () => {
    const result = sampledBalance(new HashRing(['only']), 100);
    expect([result.maxOverMean, result.minOverMean]).toEqual([1, 1]);
  });

  it('counts owners of the sampled keys', () => {
    // Keys 251..500 fall in b's arc (1/4, 1/2]: 250 of 1000 against a fair 500.
    const result = sampledBalance(handRing(), 1000, evenKey);
    expect(result).toEqual({ maxOverMean: 1.5, minOverMean: 0.5, maxNode: 'a', minNode: 'b' });
  });

  it('counts a node that no key reaches as 0', () => {
    expect(sampledBalance(handRing(), 1, evenKey).minOverMean).toBe(0);
  });

  it('agrees with the exact balance given enough keys', () => {
    const ring = fiveNodes();
    const exact = balance(ring);
    const sampled = sampledBalance(ring, 200_000);
    expect(Math.abs(sampled.maxOverMean - exact.maxOverMean)).toBeLessThan(0.02);
    expect(Math.abs(sampled.minOverMean - exact.minOverMean)).toBeLessThan(0.02);
  });

  it('uses distinct keys `sample:<i>` by default', () => {
    const seen: string[] = [];
    const spy = {
      nodes: [{ id: 'x', weight: 1 }],
      shares: () => new Map(),
      owner: (key: string) => (seen.push(key), 'x'),
    };
    sampledBalance(spy, 3);
    expect(seen).toEqual(['sample:0', 'sample:1', 'sample:2']);
  });

  it('refuses a sample count that is not a positive integer', () => {
    expect(() => sampledBalance(handRing(), 0)).toThrow(RangeError);
    expect(() => sampledBalance(handRing(), 1.5)).toThrow(RangeError);
  });
});

/** A ring whose owners are a table, so a broken `add`/`remove` can be simulated. */
function fakeRing(owners: Record<string, string>, next?: () => MovementRing): MovementRing {
  const ids = [...new Set(Object.values(owners))];
  const ring: MovementRing = {
    nodes: ids.map((id) => ({ id, weight: 1 })),
    owner: (key) => owners[key] ?? 'missing',
    shares: () => new Map(ids.map((id) => [id, 1 / ids.length])),
    add: () => (next ?? (() => ring))(),
    remove: () => (next ?? (() => ring))(),
  };
  return ring;
}

describe('movementOnAdd', () => {
  it('moves exactly the new node’s arc, all of it to the new node', () => {
    const hash = tableHash(TABLE);
    const ring = new HashRing(['a', 'b'], { vnodes: 1, hash });
    // c takes (1/2, 3/4]: keys 501..750.
    expect(movementOnAdd(ring, 'c', evenKeys)).toEqual({
      movedFraction: 0.25,
      allToNewNode: true,
      fairShare: 1 / 3,
      exactShare: 0.25,
    });
  });

  it('moves about the new node’s share on a default ring, only to it', () => {
    const result = movementOnAdd(fiveNodes(), 'n5', keys(50_000));
    expect(result.allToNewNode).toBe(true);
    expect(result.fairShare).toBeCloseTo(1 / 6, 12);
    expect(result.movedFraction).toBeGreaterThan(0);
    expect(Math.abs(result.movedFraction - result.exactShare)).toBeLessThan(0.01);
  });

  it('weighs the fair share by the new node’s weight', () => {
    const result = movementOnAdd(fiveNodes(), { id: 'heavy', weight: 5 }, keys(1000));
    expect(result.fairShare).toBeCloseTo(0.5, 12);
  });

  it('catches a ring that moves keys between old nodes', () => {
    const after = fakeRing({ k1: 'new', k2: 'b', k3: 'b' });
    const before = fakeRing({ k1: 'a', k2: 'a', k3: 'b' }, () => after);
    const result = movementOnAdd(before, 'new', ['k1', 'k2', 'k3']);
    expect(result.allToNewNode).toBe(false);
    expect(result.movedFraction).toBeCloseTo(2 / 3, 12);
  });

  it('refuses an empty key list', () => {
    expect(() => movementOnAdd(fiveNodes(), 'n5', [])).toThrow(RangeError);
  });
});

describe('movementOnRemove', () => {
  it('moves exactly the removed node’s keys on a hand-built ring', () => {
    // Without b, its keys 251..500 go to a; nothing else moves.
    expect(movementOnRemove(handRing(), 'b', evenKeys)).toEqual({
      movedFraction: 0.25,
      removedNodeFraction: 0.25,
      onlyRemovedNodesKeys: true,
      exactShare: 0.25,
    });
  });

  it('moves only the removed node’s keys on a default ring', () => {
    const ring = fiveNodes();
    const sample = keys(50_000);
    const owned = sample.filter((key) => ring.owner(key) === 'n2').length / sample.length;
    const result = movementOnRemove(ring, 'n2', sample);
    expect(result.onlyRemovedNodesKeys).toBe(true);
    expect(result.movedFraction).toBe(owned);
    expect(result.removedNodeFraction).toBe(owned);
    expect(result.exactShare).toBe(ring.shares().get('n2'));
  });

  it('catches a ring that moves a key the removed node did not own', () => {
    const after = fakeRing({ k1: 'a', k2: 'a', k3: 'a' });
    const before = fakeRing({ k1: 'a', k2: 'gone', k3: 'c' }, () => after);
    expect(movementOnRemove(before, 'gone', ['k1', 'k2', 'k3']).onlyRemovedNodesKeys).toBe(false);
  });

  it('catches a ring that keeps a key on the removed node', () => {
    const after = fakeRing({ k1: 'a', k2: 'gone' });
    const before = fakeRing({ k1: 'a', k2: 'gone' }, () => after);
    expect(movementOnRemove(before, 'gone', ['k1', 'k2']).onlyRemovedNodesKeys).toBe(false);
  });

  it('passes on the ring’s error for an unknown node', () => {
    expect(() => movementOnRemove(fiveNodes(), 'nope', ['k'])).toThrow(/not on the ring/);
  });
});

describe('randomIdSets', () => {
  it('draws the same sets from the same seed, and other sets from another', () => {
    expect(randomIdSets(3, 10, 7)).toEqual(randomIdSets(3, 10, 7));
    expect(randomIdSets(3, 10, 7)).not.toEqual(randomIdSets(3, 10, 8));
  });

  it('gives count sets of size distinct, prefixed ids', () => {
    const sets = randomIdSets(20, 100, 1, 'redis-');
    expect(sets).toHaveLength(20);
    for (const set of sets) {
      expect(new Set(set).size).toBe(100);
      for (const id of set) expect(id).toMatch(/^redis-[0-9a-f]{8}$/);
    }
    expect(new Set(sets.map((set) => set.join())).size).toBe(20);
  });

  it('refuses a negative or fractional count or size', () => {
    expect(() => randomIdSets(-1, 10, 1)).toThrow(RangeError);
    expect(() => randomIdSets(1, 2.5, 1)).toThrow(RangeError);
  });
});

describe('mulberry32', () => {
  it('repeats for a seed and spreads evenly over [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const values = Array.from({ length: 10_000 }, () => a());
    expect(values.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});
