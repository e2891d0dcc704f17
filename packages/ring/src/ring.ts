import { describe, RingError } from './errors.js';
import { murmur3, murmur3Ascii, utf8 } from './hash.js';
import {
  compareRecords,
  makeRecord,
  parseNode,
  type NodeRecord,
  type RingNode,
  type RingNodeInput,
} from './node.js';
import {
  MAX_POINTS,
  resolveRingOptions,
  type ResolvedRingOptions,
  type RingOptions,
} from './options.js';
import { indexPoints, successor, type PointIndex } from './search.js';
import { sortPairs } from './sort.js';

const RING_SPACE = 2 ** 32;

interface RingState {
  readonly options: ResolvedRingOptions;
  /** Sorted by id bytes; a node's rank is its place here. */
  readonly records: readonly NodeRecord[];
  readonly nodes: readonly RingNode[];
  readonly ranks: ReadonlyMap<string, number>;
  readonly index: PointIndex;
  /** `owners[i]` is the rank of the node that owns point `i`. */
  readonly owners: Uint16Array | Uint32Array;
  /** Scratch of `owners()`: `stamps[rank] === stamp` marks a node already taken. */
  readonly stamps: Uint32Array;
}

/**
 * A consistent-hash ring with virtual nodes. Pure and synchronous: it never does I/O, and
 * the same nodes and options give the same owners in every process, whatever their order.
 * A ring never changes; `add()` and `remove()` return a new ring.
 *
 * @example
 * ```ts
 * const ring = new HashRing(['a', 'b', { id: 'c', weight: 2 }]);
 * ring.owner('order:42');        // 'c'
 * ring.owners('order:42', 2);    // ['c', 'a']
 * const bigger = ring.add('d');  // ring itself is unchanged
 * ```
 */
export class HashRing {
  #state: RingState;
  #stamp = 0;

  /**
   * @param nodes - ids, or `{ id, weight? }` (weight defaults to 1); may be empty
   * @param options - see {@link RingOptions}
   * @throws {@link RingError} on a bad node, a duplicate id, a bad option, or a ring too large
   */
  constructor(nodes: Iterable<RingNodeInput>, options?: RingOptions) {
    const resolved = resolveRingOptions(options);
    const raw: unknown = nodes;
    if (typeof raw !== 'object' || raw === null || !(Symbol.iterator in raw)) {
      throw new RingError(
        'ERR_RING_INVALID_NODE',
        `nodes must be an iterable of ids or { id, weight? }, received ${describe(nodes)}`,
      );
    }
    const parsed = [...nodes].map(parseNode);
    checkUnique(parsed);
    checkSize(parsed, resolved);
    this.#state = build(
      parsed.map((node) => makeRecord(node, resolved)),
      resolved,
    );
  }

  static #from(records: NodeRecord[], options: ResolvedRingOptions): HashRing {
    const ring = new HashRing([], options);
    ring.#state = build(records, options);
    return ring;
  }

  /** The nodes, sorted by id. */
  get nodes(): readonly RingNode[] {
    return this.#state.nodes;
  }

  /** How many nodes the ring has. */
  get size(): number {
    return this.#state.records.length;
  }

  /** How many points (virtual nodes) the ring has, over all nodes. */
  get pointCount(): number {
    return this.#state.index.points.length;
  }

  /** Bytes held by the ring's lookup arrays (points, owners, bucket index). */
  get byteLength(): number {
    const { index, owners } = this.#state;
    return index.points.byteLength + index.starts.byteLength + owners.byteLength;
  }

  /** The resolved options of this ring. */
  get options(): ResolvedRingOptions {
    return this.#state.options;
  }

  /** Whether a node with this id is on the ring. */
  has(id: string): boolean {
    return this.#state.ranks.has(id);
  }

  /**
   * The id of the node that owns `key`: the first point clockwise from the key's hash.
   * @param key - a string (hashed as UTF-8) or bytes
   * @throws {@link RingError} `ERR_RING_INVALID_KEY`, or `ERR_RING_EMPTY` when the ring has no node
   */
  owner(key: string | Uint8Array): string {
    const state = this.#state;
    const point = successor(nonEmpty(state).index, this.#hash(key));
    return state.records[state.owners[point]!]!.node.id;
  }

  /**
   * The key's preference list: `count` distinct node ids in clockwise order from the key,
   * or every node when the ring has fewer. Its first id is `owner(key)`.
   * @throws {@link RingError} `ERR_RING_INVALID_KEY`, `ERR_RING_INVALID_COUNT`, or `ERR_RING_EMPTY`
   */
  owners(key: string | Uint8Array, count: number): string[] {
    if (!Number.isInteger(count) || count < 1) {
      throw new RingError(
        'ERR_RING_INVALID_COUNT',
        `count must be a positive integer, received ${describe(count)}`,
      );
    }
    const state = nonEmpty(this.#state);
    const { points } = state.index;
    const want = Math.min(count, state.records.length);
    const result: string[] = [];
    const stamp = this.#nextStamp();
    let point = successor(state.index, this.#hash(key));
    while (result.length < want) {
      const rank = state.owners[point]!;
      if (state.stamps[rank] !== stamp) {
        state.stamps[rank] = stamp;
        result.push(state.records[rank]!.node.id);
      }
      point = point + 1 === points.length ? 0 : point + 1;
    }
    return result;
  }

  /**
   * Each node's exact share of the hash space (the arcs its points end), from 0 to 1.
   * Shares add up to 1 on a non-empty ring.
   */
  shares(): Map<string, number> {
    const { records, owners, index } = this.#state;
    const arcs = new Float64Array(records.length);
    const { points } = index;
    for (let i = 0; i < points.length; i++) {
      const previous = i === 0 ? points[points.length - 1]! - RING_SPACE : points[i - 1]!;
      arcs[owners[i]!]! += points[i]! - previous;
    }
    return new Map(records.map((record, rank) => [record.node.id, arcs[rank]! / RING_SPACE]));
  }

  /**
   * A new ring with `node` added; this ring is unchanged. Points of the other nodes are not
   * hashed again, and only keys that the new node now owns move (to it).
   * @throws {@link RingError} on a bad node, `ERR_RING_DUPLICATE_NODE`, or `ERR_RING_TOO_LARGE`
   */
  add(node: RingNodeInput): HashRing {
    const parsed = parseNode(node);
    const { options, records } = this.#state;
    if (this.has(parsed.id)) {
      throw new RingError(
        'ERR_RING_DUPLICATE_NODE',
        `node ${JSON.stringify(parsed.id)} is already on the ring`,
      );
    }
    checkSize([...this.#state.nodes, parsed], options);
    return HashRing.#from([...records, makeRecord(parsed, options)], options);
  }

  /**
   * A new ring without node `id`; this ring is unchanged. Only that node's keys move.
   * @throws {@link RingError} `ERR_RING_UNKNOWN_NODE`
   */
  remove(id: string): HashRing {
    if (!this.has(id)) {
      throw new RingError('ERR_RING_UNKNOWN_NODE', `node ${describe(id)} is not on the ring`);
    }
    const { options, records } = this.#state;
    return HashRing.#from(
      records.filter((record) => record.node.id !== id),
      options,
    );
  }

  #hash(key: string | Uint8Array): number {
    const { hash, seed } = this.#state.options;
    let bytes: Uint8Array;
    if (typeof key === 'string') {
      if (hash === murmur3) {
        const ascii = murmur3Ascii(key, seed);
        if (ascii >= 0) return ascii;
      }
      // Lone surrogates encode to U+FFFD, so two different strings would share an owner
      // while a store keyed by the string sees two keys.
      if (!key.isWellFormed()) {
        throw new RingError(
          'ERR_RING_INVALID_KEY',
          `a key must be well-formed UTF-16 (no lone surrogate), received ${describe(key)}`,
        );
      }
      bytes = utf8(key);
    } else if (key instanceof Uint8Array) bytes = key;
    else
      throw new RingError(
        'ERR_RING_INVALID_KEY',
        `a key must be a string or a Uint8Array, received ${describe(key)}`,
      );
    return hash(bytes, seed) >>> 0;
  }

  #nextStamp(): number {
    this.#stamp = (this.#stamp + 1) >>> 0;
    if (this.#stamp === 0) {
      this.#state.stamps.fill(0);
      this.#stamp = 1;
    }
    return this.#stamp;
  }
}

function nonEmpty(state: RingState): RingState {
  if (state.records.length === 0) {
    throw new RingError('ERR_RING_EMPTY', 'the ring has no node');
  }
  return state;
}

function checkUnique(nodes: readonly RingNode[]): void {
  const seen = new Set<string>();
  for (const { id } of nodes) {
    if (seen.has(id)) {
      throw new RingError(
        'ERR_RING_DUPLICATE_NODE',
        `node id ${JSON.stringify(id)} appears more than once`,
      );
    }
    seen.add(id);
  }
}

function checkSize(nodes: readonly RingNode[], options: ResolvedRingOptions): void {
  let points = 0;
  for (const { weight } of nodes) points += Math.max(1, Math.round(weight * options.vnodes));
  if (points > MAX_POINTS) {
    throw new RingError(
      'ERR_RING_TOO_LARGE',
      `${nodes.length} nodes with vnodes ${options.vnodes} need ${points} points; a ring holds at most ${MAX_POINTS}`,
    );
  }
}

function build(unsorted: NodeRecord[], options: ResolvedRingOptions): RingState {
  const records = unsorted.sort(compareRecords);
  let total = 0;
  for (const record of records) total += record.points.length;
  const hashes = new Uint32Array(total);
  const ranks = new Uint32Array(total);
  let at = 0;
  records.forEach((record, rank) => {
    hashes.set(record.points, at);
    ranks.fill(rank, at, at + record.points.length);
    at += record.points.length;
  });
  // Filled in rank (id) order and sorted stably, so equal hashes go to the lower id in
  // every process, whatever order the nodes were given in.
  const sorted = sortPairs(hashes, ranks);
  const points = sorted.keys;
  const owners = records.length <= 0x10000 ? new Uint16Array(sorted.values) : sorted.values;
  return {
    options,
    records,
    nodes: Object.freeze(records.map((record) => record.node)),
    ranks: new Map(records.map((record, rank) => [record.node.id, rank])),
    index: indexPoints(points),
    owners,
    stamps: new Uint32Array(records.length),
  };
}
