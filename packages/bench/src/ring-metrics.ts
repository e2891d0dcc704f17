// Pure measurements of a ring: how evenly it spreads keys and how many keys move when its
// membership changes. No timing and no I/O, so they are unit-tested like any other code;
// ring.bench.ts runs and prints them.
import type { HashRing, RingNode, RingNodeInput } from '@shardlock/ring';

/** The parts of a ring that balance reads; a structural type so tests can pass fakes. */
export type BalanceRing = Pick<HashRing, 'nodes' | 'owner' | 'shares'>;
/**
 * The parts of a ring that movement reads. A {@link HashRing} is one; tests pass fakes to
 * check that a broken ring is caught.
 */
export interface MovementRing {
  readonly nodes: readonly RingNode[];
  owner(key: string): string;
  shares(): Map<string, number>;
  add(node: RingNodeInput): MovementRing;
  remove(id: string): MovementRing;
}

/** How far the most and least loaded nodes are from their fair share. */
export interface Balance {
  /** Largest `share / fair share` over the nodes; 1 is perfect. */
  readonly maxOverMean: number;
  /** Smallest `share / fair share` over the nodes; 1 is perfect. */
  readonly minOverMean: number;
  /** A node with the largest ratio. */
  readonly maxNode: string;
  /** A node with the smallest ratio. */
  readonly minNode: string;
}

/** What adding a node did to the owners of a set of keys. */
export interface AddMovement {
  /** Keys whose owner changed, over all keys. */
  readonly movedFraction: number;
  /** Whether every key that moved moved to the new node. */
  readonly allToNewNode: boolean;
  /** The new node's fair share: its weight over the total weight after the add (`1/(size+1)`). */
  readonly fairShare: number;
  /** The new node's exact share of the hash space, from the arcs of the new ring. */
  readonly exactShare: number;
}

/** What removing a node did to the owners of a set of keys. */
export interface RemoveMovement {
  /** Keys whose owner changed, over all keys. */
  readonly movedFraction: number;
  /** Of the keys, the fraction the removed node owned before. */
  readonly removedNodeFraction: number;
  /** Whether only the removed node's keys moved, and all of them did. */
  readonly onlyRemovedNodesKeys: boolean;
  /** The removed node's exact share of the hash space before the removal. */
  readonly exactShare: number;
}

/** The default sample keys: `sample:0`, `sample:1`, … */
export const sampleKey = (i: number): string => `sample:${i}`;

/**
 * Balance from the exact arc shares of the ring. Each node's share is compared with its fair
 * share (its weight over the total weight), so weighted rings are judged fairly.
 * @throws RangeError when the ring has no node
 */
export function balance(ring: BalanceRing): Balance {
  const shares = ring.shares();
  return extremes(ring, (id) => shares.get(id) ?? 0, 1);
}

/**
 * Balance from the owners of `sampleCount` distinct keys (`keyFn(0)` … `keyFn(n-1)`): what
 * a client would see, sampling noise included.
 * @throws RangeError when the ring has no node or `sampleCount` is not a positive integer
 */
export function sampledBalance(
  ring: BalanceRing,
  sampleCount: number,
  keyFn: (i: number) => string = sampleKey,
): Balance {
  if (!Number.isInteger(sampleCount) || sampleCount < 1) {
    throw new RangeError(`sampleCount must be a positive integer, received ${sampleCount}`);
  }
  const counts = new Map<string, number>();
  for (let i = 0; i < sampleCount; i++) {
    const id = ring.owner(keyFn(i));
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return extremes(ring, (id) => counts.get(id) ?? 0, sampleCount);
}

/** Extremes of `amount(id) / (total × weight / total weight)` over the ring's nodes. */
function extremes(ring: BalanceRing, amount: (id: string) => number, total: number): Balance {
  const { nodes } = ring;
  if (nodes.length === 0) throw new RangeError('the ring has no node');
  let weights = 0;
  for (const node of nodes) weights += node.weight;
  let maxOverMean = -Infinity;
  let minOverMean = Infinity;
  let maxNode = '';
  let minNode = '';
  for (const { id, weight } of nodes) {
    const ratio = amount(id) / ((total * weight) / weights);
    if (ratio > maxOverMean) [maxOverMean, maxNode] = [ratio, id];
    if (ratio < minOverMean) [minOverMean, minNode] = [ratio, id];
  }
  return { maxOverMean, minOverMean, maxNode, minNode };
}

/**
 * Adds `newNode` and compares the owners of `keys` before and after.
 * @throws the ring's error when the node cannot be added; RangeError when `keys` is empty
 */
export function movementOnAdd(
  ring: MovementRing,
  newNode: RingNodeInput,
  keys: readonly string[],
): AddMovement {
  nonEmpty(keys);
  const after = ring.add(newNode);
  const id = typeof newNode === 'string' ? newNode : newNode.id;
  let moved = 0;
  let allToNewNode = true;
  for (const key of keys) {
    const owner = after.owner(key);
    if (owner !== ring.owner(key)) {
      moved++;
      if (owner !== id) allToNewNode = false;
    }
  }
  const weight = after.nodes.find((node) => node.id === id)?.weight ?? 1;
  let weights = 0;
  for (const node of after.nodes) weights += node.weight;
  return {
    movedFraction: moved / keys.length,
    allToNewNode,
    fairShare: weight / weights,
    exactShare: after.shares().get(id) ?? 0,
  };
}

/**
 * Removes node `id` and compares the owners of `keys` before and after.
 * @throws the ring's error when the node is not on the ring; RangeError when `keys` is empty
 */
export function movementOnRemove(
  ring: MovementRing,
  id: string,
  keys: readonly string[],
): RemoveMovement {
  nonEmpty(keys);
  const after = ring.remove(id);
  let moved = 0;
  let owned = 0;
  let onlyRemovedNodesKeys = true;
  for (const key of keys) {
    const before = ring.owner(key);
    const changed = after.owner(key) !== before;
    if (changed) moved++;
    if (before === id) owned++;
    // A key moves exactly when its owner left: any other move breaks the guarantee.
    if (changed !== (before === id)) onlyRemovedNodesKeys = false;
  }
  return {
    movedFraction: moved / keys.length,
    removedNodeFraction: owned / keys.length,
    onlyRemovedNodesKeys,
    exactShare: ring.shares().get(id) ?? 0,
  };
}

function nonEmpty(keys: readonly string[]): void {
  if (keys.length === 0) throw new RangeError('keys must not be empty');
}

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence everywhere, so a
 * bench run that draws random ids can be repeated exactly.
 * @returns a function giving floats in `[0, 1)`
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * `count` sets of `size` distinct random ids (`${prefix}` and 8 hex digits), from `seed`.
 * @throws RangeError when `count` or `size` is not a non-negative integer
 */
export function randomIdSets(
  count: number,
  size: number,
  seed: number,
  prefix = 'node-',
): string[][] {
  for (const [name, value] of [
    ['count', count],
    ['size', size],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative integer, received ${value}`);
    }
  }
  const random = mulberry32(seed);
  const hex = (): string =>
    Math.floor(random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return Array.from({ length: count }, () => {
    const ids = new Set<string>();
    while (ids.size < size) ids.add(`${prefix}${hex()}`);
    return [...ids];
  });
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('values must not be empty');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
