import { describe, expect, it } from 'vitest';
import type { LockClient } from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import { nodeSpecs } from '../../harness/index.js';
import { until } from '../../support/redis.js';
import { connected, events, index, keyWhere, useCluster, type Cluster } from './helpers.js';

// docs/safety.md hazards 5 and 6: fences strictly increase for successive grants of one key, also
// when clients apply a membership change at different moments and the nodes' clocks differ.
// A node whose clock runs ahead is emulated by setting its fence counter ahead (fences are
// max(server time in µs, counter + 1, floor + 1)). Review defect 3.

const c: Cluster = useCluster();

/** 2 s ahead of the other nodes' clocks, in µs. */
const AHEAD_US = 2_000_000n;

/** The fence counter value of a node whose clock runs `AHEAD_US` ahead. */
const aheadOfNow = (): string => (BigInt(Date.now()) * 1_000n + AHEAD_US).toString();

interface Setup {
  readonly a: LockClient;
  readonly b: LockClient;
  readonly key: string;
  readonly oldOwner: string;
  readonly added: ReturnType<typeof nodeSpecs>[number];
}

/** Four nodes; A and B serve n0–n2; `key` moves to n3 when it is added. */
async function twoClients(): Promise<Setup> {
  await c.start(4);
  const specs = nodeSpecs(c.nodes);
  const a = c.client({ nodes: specs.slice(0, 3) });
  const b = c.client({ nodes: specs.slice(0, 3) });
  await connected(a);
  await connected(b);
  const all = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: a.options.vnodes });
  const key = keyWhere('fence', (k) => all.owner(k) === 'n3');
  return { a, b, key, oldOwner: a.nodeFor(key), added: specs[3]! };
}

describe('defect 3: fences go backwards across a membership change when node clocks differ', () => {
  it('a: a lagging client’s grant on the old owner is fenced above a grant the new owner gave', async () => {
    const { a, b, key, oldOwner, added } = await twoClients();
    // The new owner's clock runs ahead.
    await c.raw(c.nodes[3]!).set('shardlock:fence', aheadOfNow());
    await a.addNode(added);
    const first = await a.acquire(key);
    expect(first.nodeIds).toEqual([oldOwner, 'n3']);
    await first.release();

    // B has not applied the add yet: it uses the old owner alone.
    const second = await b.acquire(key);
    expect(second.nodeIds).toEqual([oldOwner]);
    expect(second.fence, `A's fence ${first.fence}, then B's ${second.fence}`).toBeGreaterThan(
      first.fence,
    );
  });

  it('b: after the handoff window, the new owner’s grant is fenced above a lagging grant on the old owner', async () => {
    const { a, b, key, oldOwner, added } = await twoClients();
    // The old owner's clock runs ahead.
    await c.raw(c.nodes[index(oldOwner)]!).set('shardlock:fence', aheadOfNow());
    const ended = events(a, 'handoffEnd');
    await a.addNode(added);

    // During A's window, B (not yet applied) takes the key on the old owner alone.
    const lagging = await b.acquire(key);
    expect(lagging.nodeIds).toEqual([oldOwner]);
    await lagging.release();
    await b.addNode(added);

    await until(() => ended.length === 1, 5_000);
    const settled = await a.acquire(key);
    expect(settled.nodeIds).toEqual(['n3']);
    expect(settled.fence, `B's fence ${lagging.fence}, then A's ${settled.fence}`).toBeGreaterThan(
      lagging.fence,
    );
  });
});
