import { describe, expect, it } from 'vitest';
import { HashRing, MAX_VNODES, RingError, type RingErrorCode } from '../src/index.js';

function expectRingError(fn: () => unknown, code: RingErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RingError);
  expect((caught as RingError).code).toBe(code);
  expect((caught as RingError).name).toBe('RingError');
}

// Casts stand for callers without TypeScript, who can pass anything.
const loose = (value: unknown): never => value as never;

describe('bad nodes', () => {
  it('rejects a duplicate id', () =>
    expectRingError(() => new HashRing(['a', 'b', 'a']), 'ERR_RING_DUPLICATE_NODE'));
  it('rejects a duplicate id given as a string and an object', () =>
    expectRingError(() => new HashRing(['a', { id: 'a', weight: 2 }]), 'ERR_RING_DUPLICATE_NODE'));
  it('rejects an empty id', () =>
    expectRingError(() => new HashRing(['']), 'ERR_RING_INVALID_NODE'));
  it('rejects an id that is not a string', () =>
    expectRingError(() => new HashRing([loose({ id: 7 })]), 'ERR_RING_INVALID_NODE'));
  it('rejects a node that is neither string nor object', () =>
    expectRingError(() => new HashRing([loose(42)]), 'ERR_RING_INVALID_NODE'));
  it('rejects nodes that are not iterable', () =>
    expectRingError(() => new HashRing(loose(null)), 'ERR_RING_INVALID_NODE'));
  it('rejects an over-long id', () =>
    expectRingError(() => new HashRing(['x'.repeat(1025)]), 'ERR_RING_INVALID_NODE'));
  // Both encode to the UTF-8 bytes of 'n\uFFFD': one node to the hash, two to the id check,
  // so the owner of a key would depend on the order of the list.
  it.each(['n\uD800', 'n\uDC00', '\uDBFFx'])('rejects the id %j with a lone surrogate', (id) =>
    expectRingError(() => new HashRing(['a', id]), 'ERR_RING_INVALID_NODE'),
  );
  it('rejects a lone surrogate in add()', () =>
    expectRingError(() => new HashRing(['a']).add('n\uD800'), 'ERR_RING_INVALID_NODE'));
  it('accepts ids with well-formed surrogate pairs', () =>
    expect(new HashRing(['n\uD83D\uDE00', 'm']).size).toBe(2));
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1001, '2'])('rejects weight %j', (weight) =>
    expectRingError(
      () => new HashRing([{ id: 'a', weight: loose(weight) }]),
      'ERR_RING_INVALID_WEIGHT',
    ),
  );
});

describe('bad options', () => {
  it.each([0, -5, 1.5, MAX_VNODES + 1, Number.NaN])('rejects vnodes %j', (vnodes) =>
    expectRingError(() => new HashRing(['a'], { vnodes }), 'ERR_RING_INVALID_OPTION'),
  );
  it.each([-1, 0.5, 2 ** 32])('rejects seed %j', (seed) =>
    expectRingError(() => new HashRing(['a'], { seed }), 'ERR_RING_INVALID_OPTION'),
  );
  it('rejects a hash that is not a function', () =>
    expectRingError(() => new HashRing(['a'], { hash: loose('md5') }), 'ERR_RING_INVALID_OPTION'));
  it('rejects an unknown option', () =>
    expectRingError(() => new HashRing(['a'], loose({ replicas: 3 })), 'ERR_RING_INVALID_OPTION'));
  it('rejects a ring with more points than it can hold', () =>
    expectRingError(
      () => new HashRing([{ id: 'a', weight: 1000 }], { vnodes: MAX_VNODES }),
      'ERR_RING_TOO_LARGE',
    ));
});

describe('bad calls', () => {
  const ring = new HashRing(['a', 'b', 'c']);
  it('owner() on an empty ring', () =>
    expectRingError(() => new HashRing([]).owner('k'), 'ERR_RING_EMPTY'));
  it('owners() on an empty ring', () =>
    expectRingError(() => new HashRing([]).owners('k', 1), 'ERR_RING_EMPTY'));
  it.each([null, undefined, 42, {}, ['k']])('rejects key %j', (key) =>
    expectRingError(() => ring.owner(loose(key)), 'ERR_RING_INVALID_KEY'),
  );
  it.each(['q\uD800', 'q\uDC00'])('rejects the key %j with a lone surrogate', (key) => {
    expectRingError(() => ring.owner(key), 'ERR_RING_INVALID_KEY');
    expectRingError(() => ring.owners(key, 2), 'ERR_RING_INVALID_KEY');
  });
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects count %j', (count) =>
    expectRingError(() => ring.owners('k', count), 'ERR_RING_INVALID_COUNT'),
  );
  it('rejects adding an id the ring has', () =>
    expectRingError(() => ring.add('b'), 'ERR_RING_DUPLICATE_NODE'));
  it('rejects adding a bad node', () =>
    expectRingError(() => ring.add({ id: 'd', weight: -1 }), 'ERR_RING_INVALID_WEIGHT'));
  it('rejects removing an unknown id', () =>
    expectRingError(() => ring.remove('zz'), 'ERR_RING_UNKNOWN_NODE'));
  it('leaves the ring unchanged after a rejected call', () => {
    expect(ring.size).toBe(3);
    expect(ring.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
  });
  it('says what it expected and what it received', () => {
    expect(() => new HashRing([{ id: 'a', weight: -2 }])).toThrow(
      /weight of node "a" must be a finite number above 0 and at most 1000, received -2/,
    );
  });
});
