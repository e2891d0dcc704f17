import { describe, RingError } from './errors.js';
import { utf8Copy } from './hash.js';
import { MAX_WEIGHT, type ResolvedRingOptions } from './options.js';

/** A node as given to the ring: its id, or its id with a weight. */
export type RingNodeInput = string | { readonly id: string; readonly weight?: number };

/** A node of a ring. */
export interface RingNode {
  /** The node's id, unique within the ring. */
  readonly id: string;
  /** The node's weight; a node of weight 2 owns about twice the keys of one of weight 1. */
  readonly weight: number;
}

/** A node with its points, computed once and shared by every ring derived from its ring. */
export interface NodeRecord {
  readonly node: RingNode;
  readonly idBytes: Uint8Array;
  readonly points: Uint32Array;
}

/** Longest node id, in UTF-16 code units. */
export const MAX_NODE_ID_LENGTH = 1_024;

const SEPARATOR = 0x23; // '#'

/**
 * Validates one node input.
 * @throws {@link RingError} `ERR_RING_INVALID_NODE` or `ERR_RING_INVALID_WEIGHT`
 */
export function parseNode(input: RingNodeInput): RingNode {
  const raw: unknown = input;
  let id: unknown;
  let weight: unknown = 1;
  if (typeof raw === 'string') {
    id = raw;
  } else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const record = raw as { id?: unknown; weight?: unknown };
    id = record.id;
    weight = record.weight ?? 1;
  } else {
    throw new RingError(
      'ERR_RING_INVALID_NODE',
      `a node must be an id string or { id, weight? }, received ${describe(raw)}`,
    );
  }
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_NODE_ID_LENGTH) {
    throw new RingError(
      'ERR_RING_INVALID_NODE',
      `a node id must be a string of 1 to ${MAX_NODE_ID_LENGTH} characters, received ${describe(id)}`,
    );
  }
  // A lone surrogate encodes to U+FFFD: 'n\uD800' and 'n\uDC00' would be one node to the hash
  // and two to the duplicate check, so owners would depend on list order.
  if (!id.isWellFormed()) {
    throw new RingError(
      'ERR_RING_INVALID_NODE',
      `a node id must be well-formed UTF-16 (no lone surrogate), received ${describe(id)}`,
    );
  }
  if (
    typeof weight !== 'number' ||
    !Number.isFinite(weight) ||
    weight <= 0 ||
    weight > MAX_WEIGHT
  ) {
    throw new RingError(
      'ERR_RING_INVALID_WEIGHT',
      `the weight of node ${JSON.stringify(id)} must be a finite number above 0 and at most ${MAX_WEIGHT}, received ${describe(weight)}`,
    );
  }
  return Object.freeze({ id, weight });
}

/** How many points a node of `weight` gets. */
export function pointCount(weight: number, vnodes: number): number {
  return Math.max(1, Math.round(weight * vnodes));
}

/**
 * Hashes a node's virtual-node labels. Label `i` is the UTF-8 bytes of the id, then `#`,
 * then `i` in decimal ASCII. Because the suffix after the last `#` is digits only, no two
 * (id, i) pairs share a label (`a` + `11` is `a#11`, and no id gives it with another i).
 */
export function makeRecord(node: RingNode, options: ResolvedRingOptions): NodeRecord {
  const idBytes = utf8Copy(node.id);
  const count = pointCount(node.weight, options.vnodes);
  const label = new Uint8Array(idBytes.length + 1 + 10);
  label.set(idBytes);
  label[idBytes.length] = SEPARATOR;
  const digitsAt = idBytes.length + 1;
  const views: Uint8Array[] = [];
  for (let d = 1; d <= 10; d++) views.push(label.subarray(0, digitsAt + d));
  const points = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const digits = writeDecimal(label, digitsAt, i);
    points[i] = options.hash(views[digits - 1]!, options.seed) >>> 0;
  }
  return { node, idBytes, points };
}

/** Writes `value` in decimal at `at`; returns how many digits it wrote. */
function writeDecimal(into: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let limit = 10; value >= limit; limit *= 10) digits++;
  let rest = value;
  for (let d = digits - 1; d >= 0; d--) {
    into[at + d] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return digits;
}

/** Orders records by the UTF-8 bytes of their ids, the ring's tie-break on equal points. */
export function compareRecords(a: NodeRecord, b: NodeRecord): number {
  const x = a.idBytes;
  const y = b.idBytes;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}
