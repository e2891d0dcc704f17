import { describe, expect, it } from 'vitest';
import { DEFAULT_RING_OPTIONS, HashRing } from '../src/index.js';
import { keys, tableHash } from './helpers.js';

// vnodes 2: node x has points x#0 and x#1. On a ring of 1000 positions:
//   a#0=100  b#0=300  c#0=500  a#1=600  b#1=800  c#1=900
const TABLE = { 'a#0': 100, 'b#0': 300, 'c#0': 500, 'a#1': 600, 'b#1': 800, 'c#1': 900 };
const handRing = (): HashRing =>
  new HashRing(['a', 'b', 'c'], { vnodes: 2, hash: tableHash(TABLE) });

describe('owner', () => {
  it('is the first point clockwise from the key', () => {
    const ring = handRing();
    expect(ring.owner('0')).toBe('a');
    expect(ring.owner('101')).toBe('b');
    expect(ring.owner('450')).toBe('c');
    expect(ring.owner('550')).toBe('a');
    expect(ring.owner('700')).toBe('b');
    expect(ring.owner('850')).toBe('c');
  });

  it('counts a key that hashes onto a point as that point’s', () => {
    const ring = handRing();
    expect(ring.owner('300')).toBe('b');
    expect(ring.owner('900')).toBe('c');
  });

  it('wraps past the last point to the first', () => {
    expect(handRing().owner('901')).toBe('a');
    expect(handRing().owner(String(2 ** 32 - 1))).toBe('a');
  });

  it('gives equal points to the lower id, whatever the insertion order', () => {
    const table = { 'a#0': 500, 'b#0': 500, 'c#0': 100 };
    const forward = new HashRing(['a', 'b', 'c'], { vnodes: 1, hash: tableHash(table) });
    const backward = new HashRing(['c', 'b', 'a'], { vnodes: 1, hash: tableHash(table) });
    expect(forward.owner('300')).toBe('a');
    expect(backward.owner('300')).toBe('a');
    expect(backward.owners('300', 3)).toEqual(['a', 'b', 'c']);
  });
});

describe('owners', () => {
  it('lists distinct nodes clockwise, skipping repeated points of one node', () => {
    const ring = handRing();
    expect(ring.owners('150', 3)).toEqual(['b', 'c', 'a']);
    expect(ring.owners('550', 2)).toEqual(['a', 'b']);
    expect(ring.owners('950', 3)).toEqual(['a', 'b', 'c']);
  });

  it('returns every node when asked for more than the ring has', () => {
    expect(handRing().owners('450', 10)).toEqual(['c', 'a', 'b']);
  });

  it('starts with owner(key)', () => {
    const ring = new HashRing(['n1', 'n2', 'n3', 'n4', 'n5']);
    for (const key of keys(2000)) {
      const list = ring.owners(key, 3);
      expect(list[0]).toBe(ring.owner(key));
      expect(new Set(list).size).toBe(3);
    }
  });
});

describe('determinism', () => {
  it('places keys the same whatever the order nodes are given in', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `node-${i}`);
    const a = new HashRing(ids);
    const b = new HashRing([...ids].reverse());
    const c = new HashRing(
      ['node-5', 'node-0'].concat(ids.filter((id) => id !== 'node-5' && id !== 'node-0')),
    );
    const d = ids.slice(1).reduce((ring, id) => ring.add(id), new HashRing([ids[0]!]));
    for (const key of keys(5000)) {
      const owners = a.owners(key, 3);
      expect(b.owners(key, 3)).toEqual(owners);
      expect(c.owners(key, 3)).toEqual(owners);
      expect(d.owners(key, 3)).toEqual(owners);
    }
  });

  it('pins the default placement (murmur3, vnodes 4096, seed 0)', () => {
    // Golden owners: any change here moves keys between nodes in deployed clients.
    const ring = new HashRing(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    const placed = ['order:1', 'order:2', 'user:42', 'invoice:2026-11', 'ключ', ''].map((key) =>
      ring.owner(key),
    );
    expect(placed).toEqual(GOLDEN_OWNERS);
  });

  it('places keys independently for another seed', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const zero = new HashRing(ids);
    const other = new HashRing(ids, { seed: 7 });
    const differing = keys(1000).filter((key) => zero.owner(key) !== other.owner(key)).length;
    expect(differing).toBeGreaterThan(500);
  });
});

describe('immutability', () => {
  it('add and remove return new rings and leave the original as it was', () => {
    const ring = new HashRing(['a', 'b', 'c']);
    const before = keys(1000).map((key) => ring.owner(key));
    const added = ring.add('d');
    const removed = ring.remove('b');
    expect(ring.size).toBe(3);
    expect(ring.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    expect(ring.has('d')).toBe(false);
    expect(ring.has('b')).toBe(true);
    expect(added.has('d')).toBe(true);
    expect(removed.has('b')).toBe(false);
    expect(keys(1000).map((key) => ring.owner(key))).toEqual(before);
  });

  it('exposes frozen node lists', () => {
    const ring = new HashRing([{ id: 'a', weight: 2 }, 'b']);
    expect(Object.isFrozen(ring.nodes)).toBe(true);
    expect(Object.isFrozen(ring.nodes[0])).toBe(true);
    expect(ring.nodes).toEqual([
      { id: 'a', weight: 2 },
      { id: 'b', weight: 1 },
    ]);
  });

  it('may be empty, and grows from empty', () => {
    const empty = new HashRing([]);
    expect(empty.size).toBe(0);
    expect(empty.add('a').owner('k')).toBe('a');
  });
});

describe('virtual-node labels', () => {
  it('never collide across ids that share a prefix (a + 11 vs a1 + 1)', () => {
    const seen = new Map<string, string>();
    const decoder = new TextDecoder();
    for (const id of ['a', 'a1', 'a11', 'a#1', '1']) {
      new HashRing([id], {
        vnodes: 30,
        hash: (bytes) => {
          const label = decoder.decode(bytes);
          expect(seen.get(label) ?? id).toBe(id);
          seen.set(label, id);
          return label.length;
        },
      });
    }
    expect(seen.size).toBe(5 * 30);
  });
});

describe('weights and shares', () => {
  it('shares add up to 1', () => {
    const shares = [...new HashRing(['a', 'b', 'c', 'd']).shares().values()];
    expect(shares.reduce((sum, s) => sum + s, 0)).toBeCloseTo(1, 12);
  });

  it('gives a node of weight 2 about twice the share and keys of weight 1', () => {
    const ring = new HashRing([{ id: 'heavy', weight: 2 }, 'x', 'y', 'z']);
    const shares = ring.shares();
    const light = (shares.get('x')! + shares.get('y')! + shares.get('z')!) / 3;
    expect(shares.get('heavy')! / light).toBeGreaterThan(1.85);
    expect(shares.get('heavy')! / light).toBeLessThan(2.15);
    const counts = new Map<string, number>();
    for (const key of keys(40_000))
      counts.set(ring.owner(key), (counts.get(ring.owner(key)) ?? 0) + 1);
    const lightKeys = (counts.get('x')! + counts.get('y')! + counts.get('z')!) / 3;
    expect(counts.get('heavy')! / lightKeys).toBeGreaterThan(1.8);
    expect(counts.get('heavy')! / lightKeys).toBeLessThan(2.2);
    expect(ring.pointCount).toBe(5 * DEFAULT_RING_OPTIONS.vnodes);
  });
});

describe('movement', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `node-${i}`);
  const sample = keys(50_000, 'move:');

  it('adding a node moves keys only to the new node, about its share', () => {
    const before = new HashRing(ids);
    const after = before.add('node-10');
    let moved = 0;
    for (const key of sample) {
      const was = before.owner(key);
      const is = after.owner(key);
      if (was !== is) {
        moved++;
        expect(is).toBe('node-10');
      }
    }
    const share = after.shares().get('node-10')!;
    expect(moved / sample.length).toBeCloseTo(share, 1);
  });

  it('removing a node moves only that node’s keys', () => {
    const before = new HashRing(ids);
    const after = before.remove('node-3');
    for (const key of sample) {
      const was = before.owner(key);
      if (was !== 'node-3') expect(after.owner(key)).toBe(was);
      else expect(after.owner(key)).not.toBe('node-3');
    }
  });

  it('removing a node moves its keys to the next node of their preference list', () => {
    const before = new HashRing(ids);
    const after = before.remove('node-3');
    for (const key of sample.slice(0, 5000)) {
      const list = before.owners(key, 2);
      if (list[0] === 'node-3') expect(after.owner(key)).toBe(list[1]);
    }
  });
});

const GOLDEN_OWNERS = ['alpha', 'bravo', 'delta', 'charlie', 'delta', 'charlie'];
