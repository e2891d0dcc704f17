import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, SettingsMismatchError, type LockClient } from '@shardlock/core';
import { LinkProxy } from '../harness/index.js';
import { until } from '../support/redis.js';
import {
  codeOf,
  connected,
  events,
  lockKey,
  lockKeys,
  outcome,
  sleep,
  useCluster,
  type Cluster,
} from './safety/helpers.js';

// Quorum mode (`replicas: 3`): each key on a majority of its three replicas, against real
// redis-server processes that are killed, paused, restarted empty and cut off per link.

const c: Cluster = useCluster();
const Q3 = { replicas: 3 } as const;
const NO_RETRY = { retry: { attempts: 0 } } as const;

async function quorumClient(options: Parameters<Cluster['client']>[0] = {}): Promise<LockClient> {
  const client = c.client({ ...Q3, ...options });
  await connected(client);
  return client;
}

/** The fence counter each node holds now. */
async function counters(): Promise<bigint[]> {
  return Promise.all(
    c.nodes.map(async (node) => BigInt((await c.raw(node).get('shardlock:fence')) ?? '0')),
  );
}

describe('quorum mode: options', () => {
  it('takes 1, 3 or 5 replicas, and no more than the nodes', async () => {
    const nodes = await c.start(3);
    const specs = nodes.map((node, i) => ({ id: `n${i}`, port: node.port }));
    for (const replicas of [0, 2, 4, 7, 3.5, '3']) {
      expect(c.construct({ nodes: specs, replicas: replicas as never })).toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    const few = c.construct({ nodes: specs.slice(0, 2), replicas: 3 });
    expect(few).toBeInstanceOf(InvalidArgumentError);
    expect((few as Error).message).toMatch(/replicas is 3 but only 2 nodes/);
    expect(c.construct({ nodes: specs, replicas: 3 })).toBeUndefined();
  });

  it('refuses a removal that would leave fewer nodes than replicas', async () => {
    await c.start(3);
    const client = await quorumClient();
    await expect(client.removeNode('n0')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(client.stats().map((s) => s.id)).toEqual(['n0', 'n1', 'n2']);
  });

  it('clients that disagree on replicas refuse to share a cluster', async () => {
    await c.start(3);
    const client = await quorumClient();
    await (await client.acquire('a')).release();
    const other = c.client({ replicas: 1 });
    const error = await other.acquire('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SettingsMismatchError);
    expect((error as SettingsMismatchError).message).toMatch(/replicas is 1 here but 3/);
  });
});

describe('quorum mode: grants', () => {
  it('a grant holds the key on every replica that voted, with one fence, and release clears them all', async () => {
    await c.start(3);
    const client = await quorumClient();
    const lock = await client.acquire('k');
    expect(lock.nodeIds.sort()).toEqual(['n0', 'n1', 'n2']);
    for (const node of c.nodes) expect(await c.raw(node).get(lockKey('k'))).toBe(lock.token);
    expect(await counters()).toEqual([lock.fence, lock.fence, lock.fence]);
    const other = await quorumClient();
    const waited = await outcome(other.acquire('k', NO_RETRY), 5_000);
    expect(waited.kind === 'error' && codeOf(waited.error)).toBe('ERR_LOCK_TIMEOUT');
    expect(await lock.release()).toBe(true);
    for (const node of c.nodes) expect(await lockKeys(c.raw(node))).toEqual([]);
    const next = await other.acquire('k');
    expect(next.fence).toBeGreaterThan(lock.fence);
  });

  it('a fence is above every fence its replicas issued, whatever the clocks say', async () => {
    await c.start(3);
    const client = await quorumClient();
    const first = await client.acquire('k');
    await first.release();
    // What a grant by a client whose clock runs an hour fast leaves on its majority.
    const ahead = first.fence + 3_600_000_000n;
    for (const node of c.nodes.slice(1)) await c.raw(node).set('shardlock:fence', String(ahead));
    const other = await quorumClient();
    const second = await other.acquire('k');
    expect(second.fence).toBeGreaterThan(ahead);
    expect(await counters()).toEqual(c.nodes.map(() => second.fence));
    // A minority that issued more (a grant released for want of a majority) stops nobody.
    await second.release();
    await c.raw(c.nodes[0]!).set('shardlock:fence', String(ahead * 2n));
    const third = await other.acquire('k');
    expect(third.fence).toBeGreaterThan(second.fence);
  });

  it('a replica restarted empty votes only once its fence counter is raised to the others', async () => {
    await c.start(3);
    const client = await quorumClient({ restartQuarantine: true });
    await (await client.acquire('warm')).release();
    // What a grant on the majority {n0, n1} by a client whose clock runs an hour fast leaves.
    const ahead = BigInt(Date.now()) * 1000n + 3_600_000_000n;
    for (const node of c.nodes.slice(0, 2)) {
      await c.raw(node).set('shardlock:fence', String(ahead));
    }
    // n1 forgets it; once it votes again, n0 (the only other node that knew) is paused, so the
    // next majority is {n1, n2}: found in the simulator, fences went backwards here.
    await c.nodes[1]!.restartEmpty();
    await until(() => client.stats().find((s) => s.id === 'n1')!.state === 'quarantined', 3_000);
    await until(() => client.stats().find((s) => s.id === 'n1')!.state === 'up', 5_000);
    c.nodes[0]!.pause();
    try {
      const lock = await client.acquire('k', { retry: { attempts: 20, delay: 50 } });
      expect(lock.nodeIds.sort()).toEqual(['n1', 'n2']);
      expect(lock.fence).toBeGreaterThan(ahead);
      await lock.release();
    } finally {
      c.nodes[0]!.resume();
    }
  });

  it('an extend racing a release places the lease nowhere after the release', async () => {
    await c.start(3);
    const client = await quorumClient();
    // n2 refuses the grant (another token holds k there for a moment): the lease is on n0, n1.
    await c.raw(c.nodes[2]!).set(lockKey('k'), 'someone-else', 'PX', 100);
    const lock = await client.acquire('k', { ttl: 300 });
    expect(lock.nodeIds.sort()).toEqual(['n0', 'n1']);
    await sleep(150);
    // The extend would now place the lease on n2 too; the release comes while it routes
    // (found in the simulator: the lease was placed on n2 after the release had gone there).
    const extended = lock.extend().catch((error: unknown) => codeOf(error));
    expect(await lock.release()).toBe(true);
    expect(await extended).toBe('ERR_LOCK_LOST');
    await sleep(50);
    for (const node of c.nodes) expect(await c.raw(node).get(lockKey('k'))).toBeNull();
  });

  it('acquireMany and withLock work on a majority', async () => {
    await c.start(3);
    const client = await quorumClient();
    const group = await client.acquireMany(['a', 'b', 'c']);
    expect(group.locks.every((lock) => lock.isValid())).toBe(true);
    await group.release();
    let ran = false;
    await client.withLock(
      'w',
      async (signal) => {
        await sleep(700);
        ran = !signal.aborted;
      },
      { ttl: 300, autoExtend: true },
    );
    expect(ran).toBe(true);
  });
});

describe('quorum mode: one replica fails, the keys keep working', () => {
  it('kill -9: held locks stay valid and extend, fresh keys are granted at once', async () => {
    await c.start(3);
    const client = await quorumClient();
    const lost = events(client, 'lockLost');
    const lock = await client.acquire('held', { ttl: 300 });
    await c.nodes[0]!.kill();
    await until(() => client.stats().find((s) => s.id === 'n0')!.state !== 'up', 2_000);
    expect(lock.isValid()).toBe(true);
    await lock.extend();
    expect(lock.nodeIds.sort()).toEqual(['n1', 'n2']);
    for (let i = 0; i < 20; i++) {
      const fresh = await client.acquire(`fresh:${i}`, NO_RETRY);
      expect(fresh.nodeIds.sort()).toEqual(['n1', 'n2']);
      await fresh.release();
    }
    expect(lost).toEqual([]);
    expect(await lock.release()).toBe(true);
  });

  it('SIGSTOP: grants go on without it; the late grants it runs on resuming are cleaned up', async () => {
    await c.start(3);
    const client = await quorumClient();
    c.nodes[2]!.pause();
    try {
      for (let i = 0; i < 10; i++) {
        const lock = await client.acquire(`p:${i}`, NO_RETRY);
        expect(lock.nodeIds.sort()).toEqual(['n0', 'n1']);
        await lock.release();
      }
    } finally {
      c.nodes[2]!.resume();
    }
    await until(async () => (await lockKeys(c.raw(c.nodes[2]!))).length === 0, 3_000);
  });

  it('an empty restart does not vote for maxTtl + drift, and the key is served meanwhile', async () => {
    await c.start(3);
    const client = await quorumClient({ restartQuarantine: true });
    await (await client.acquire('warm')).release();
    await c.nodes[1]!.restartEmpty();
    await until(() => client.stats().find((s) => s.id === 'n1')!.state === 'quarantined', 3_000);
    let granted = 0;
    while (client.stats().find((s) => s.id === 'n1')!.state === 'quarantined') {
      const lock = await client.acquire('k', NO_RETRY);
      expect(lock.nodeIds.sort()).toEqual(['n0', 'n2']);
      expect(await c.raw(c.nodes[1]!).get(lockKey('k'))).toBeNull();
      await lock.release();
      granted++;
      await sleep(20);
    }
    expect(granted).toBeGreaterThan(0);
    const lock = await client.acquire('k');
    expect(lock.nodeIds.sort()).toEqual(['n0', 'n1', 'n2']);
  });

  it('two replicas down: no grant, a typed error, and nothing left held', async () => {
    await c.start(3);
    const client = await quorumClient();
    await c.nodes[0]!.kill();
    await c.nodes[1]!.kill();
    await until(() => client.stats().filter((s) => s.state !== 'up').length === 2, 2_000);
    const result = await outcome(client.acquire('k', NO_RETRY), 5_000);
    expect(result.kind).toBe('error');
    expect(['ERR_NODE_QUARANTINED', 'ERR_NODE_UNAVAILABLE']).toContain(
      result.kind === 'error' ? codeOf(result.error) : undefined,
    );
    expect(await lockKeys(c.raw(c.nodes[2]!))).toEqual([]);
  });
});

describe('quorum mode: partitions only some clients see', () => {
  it('a client cut off from one replica still locks; one cut off from two cannot take a held key nor a free one', async () => {
    const nodes = await c.start(3);
    const proxies = await Promise.all(nodes.map((node) => LinkProxy.start({ port: node.port })));
    try {
      const cut = c.client({
        ...Q3,
        nodes: proxies.map((proxy, i) => ({ id: `n${i}`, port: proxy.port })),
      });
      await connected(cut);
      const other = await quorumClient();
      proxies[0]!.set('both', 'blackhole');
      const one = await cut.acquire('a', NO_RETRY);
      expect(one.nodeIds.sort()).toEqual(['n1', 'n2']);
      await one.release();
      const held = await other.acquire('b', { ttl: 300 });
      proxies[1]!.set('both', 'blackhole');
      for (const key of ['b', 'c']) {
        const result = await outcome(cut.acquire(key, NO_RETRY), 5_000);
        expect(result.kind).toBe('error');
      }
      expect(held.isValid()).toBe(true);
      for (const proxy of proxies) proxy.heal();
      await held.release();
    } finally {
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });
});
