import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, SettingsMismatchError, type LockClient } from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import { LinkProxy } from '../harness/index.js';
import { until } from '../support/redis.js';
import {
  codeOf,
  connected,
  events,
  index,
  keyWhere,
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
  // The restart quarantine is what lets a holder keep its lock through a replica's fault.
  const client = c.client({ ...Q3, restartQuarantine: true, ...options });
  await connected(client);
  return client;
}

/** Proxies the tests opened; each test's are closed after it. */
const opened: LinkProxy[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((proxy) => proxy.close()));
});

/** Each node behind its own {@link LinkProxy} (a link one client sees), closed after the test. */
async function proxiesFor(nodes: readonly { port: number }[]): Promise<LinkProxy[]> {
  const proxies = await Promise.all(nodes.map((node) => LinkProxy.start({ port: node.port })));
  opened.push(...proxies);
  return proxies;
}

/** Node specs `n0`, `n1`, … for these ports (servers or proxies). */
function specsOf(ports: readonly { port: number }[]): { id: string; port: number }[] {
  return ports.map((p, i) => ({ id: `n${i}`, port: p.port }));
}

/** Whether `key`'s three replicas on n0–n3 include n3 (so an addition of n3 moves it). */
function movesTo(key: string): boolean {
  return new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: 4096 }).owners(key, 3).includes('n3');
}

/** `key`'s replicas on n0–n2, in preference order (the first two are asked first). */
function preference(key: string): string[] {
  return new HashRing(['n0', 'n1', 'n2'], { vnodes: 4096 }).owners(key, 3);
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
    const specs = specsOf(nodes);
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
  it('a grant is on a majority, the first two replicas of the key, with one fence; release clears them', async () => {
    await c.start(3);
    const client = await quorumClient();
    const lock = await client.acquire('k');
    const [first, second, third] = preference('k');
    expect(lock.nodeIds.sort()).toEqual([first, second].sort());
    const counter = await counters();
    for (const id of [first!, second!]) {
      expect(await c.raw(c.nodes[index(id)]!).get(lockKey('k'))).toBe(lock.token);
      expect(counter[index(id)]).toBe(lock.fence);
    }
    // The third replica is asked only when one of the first two fails or refuses.
    expect(await c.raw(c.nodes[index(third!)]!).get(lockKey('k'))).toBeNull();
    expect(counter[index(third!)]).toBe(0n);
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
    const counter = await counters();
    for (const id of second.nodeIds) expect(counter[index(id)]).toBe(second.fence);
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

  it('a client started after a replica restarted empty raises its counter before it votes, however old it is', async () => {
    // Found by the simulator (`pnpm sim --replicas 3 --seed 751`): the client that saw n1
    // restart could not raise its counter (n0 hung), and a client started once n1 was older
    // than the quarantine trusted it at once: granted on {n1, n2} below the last fence.
    await c.start(3);
    const early = await quorumClient();
    await (await early.acquire('warm')).release();
    const ahead = BigInt(Date.now()) * 1000n + 3_600_000_000n;
    for (const node of c.nodes.slice(0, 2)) {
      await c.raw(node).set('shardlock:fence', String(ahead));
    }
    let late: LockClient | undefined;
    c.nodes[0]!.pause();
    try {
      await c.nodes[1]!.restartEmpty();
      await until(() => early.stats().find((s) => s.id === 'n1')!.state === 'quarantined', 3_000);
      // Older than the quarantine by the uptime it reports (whole seconds, one counted off).
      await sleep(2_500);
      late = c.client({ ...Q3, restartQuarantine: true });
      const got = await outcome(late.acquire('k', { retry: { attempts: 5, delay: 50 } }), 5_000);
      if (got.kind === 'value') {
        expect(got.value.fence, 'a grant while n0 hangs').toBeGreaterThan(ahead);
        await got.value.release();
      } else {
        expect(got.kind === 'error' ? codeOf(got.error) : got.kind).toMatch(/^ERR_NODE_/);
      }
    } finally {
      c.nodes[0]!.resume();
    }
    const lock = await late.acquire('k', { waitTimeout: 5_000 });
    expect(lock.fence, 'a grant once n0 is back').toBeGreaterThan(ahead);
  });

  it('an extend racing a release places the lease nowhere after the release', async () => {
    await c.start(3);
    const client = await quorumClient();
    const [first, second, third] = preference('k');
    const lock = await client.acquire('k', { ttl: 300 });
    expect(lock.nodeIds.sort()).toEqual([first, second].sort());
    // A holder's replica dies: the next extend would place the lease on the third one; the
    // release comes while it routes (found in the simulator: the lease was placed there
    // after the release had gone out).
    await c.nodes[index(second!)]!.kill();
    await until(() => client.stats().find((s) => s.id === second)!.state !== 'up', 2_000);
    expect(lock.isValid()).toBe(true);
    const extended = lock.extend().catch((error: unknown) => codeOf(error));
    expect(await lock.release()).toBe(true);
    expect(await extended).toBe('ERR_LOCK_LOST');
    await sleep(50);
    for (const id of [first!, third!]) {
      expect(await c.raw(c.nodes[index(id)]!).get(lockKey('k'))).toBeNull();
    }
  });

  it('an extend refused as lost takes back the lease it placed on another replica', async () => {
    // Found by the simulator (`pnpm sim --replicas 3 --seed 713`): the lease this extend
    // placed stayed held for a whole TTL although nobody believed it.
    await c.start(3);
    const client = await quorumClient({ maxTtl: 5_000, defaultTtl: 5_000 });
    const [first, second, third] = preference('k');
    const lock = await client.acquire('k');
    expect(lock.nodeIds.sort()).toEqual([first, second].sort());
    // A holder's replica dies: the next extend places the lease on the third one.
    await c.nodes[index(second!)]!.kill();
    await until(() => client.stats().find((s) => s.id === second)!.state !== 'up', 2_000);
    // The replica it still holds has lost it (expired or deleted behind its back).
    await c.raw(c.nodes[index(first!)]!).del(lockKey('k'));
    expect(await lock.extend().catch((error: unknown) => codeOf(error))).toBe('ERR_LOCK_LOST');

    const probe = c.raw(c.nodes[index(third!)]!);
    await until(async () => (await probe.exists(lockKey('k'))) === 0, 1_000).catch(() => undefined);
    expect(await probe.pttl(lockKey('k')), 'PTTL where the refused extend placed it').toBe(-2);
  });

  it('an extend that failed on a paused replica: what it placed on another ends at the lease deadline', async () => {
    await c.start(3);
    // A high failure threshold: the paused replica is never marked down, the lock stays held.
    const client = await quorumClient({ maxTtl: 2_000, defaultTtl: 2_000, failureThreshold: 50 });
    const [first, second, third] = preference('k');
    const lock = await client.acquire('k');
    // A holder's replica dies: the next extend also places the lease on the third one.
    await c.nodes[index(second!)]!.kill();
    await until(() => client.stats().find((s) => s.id === second)!.state !== 'up', 2_000);
    await sleep(1_000);
    const node = c.nodes[index(first!)]!;
    node.pause();
    let extended;
    try {
      extended = await outcome(lock.extend(), 5_000);
    } finally {
      node.resume();
    }
    expect(extended.kind === 'error' ? codeOf(extended.error) : extended.kind).toBe(
      'ERR_NODE_UNAVAILABLE',
    );
    const probe = c.raw(c.nodes[index(third!)]!);
    expect(await probe.get(lockKey('k')), 'placed by the failed extend').toBe(lock.token);

    // Left alone, it stays held 2 s from the extend, ~1 s past the lock's deadline.
    const bound = lock.deadline + 600 - performance.now();
    await until(async () => (await probe.exists(lockKey('k'))) === 0, bound).catch(() => undefined);
    expect(await probe.pttl(lockKey('k')), "PTTL 600 ms past the lock's deadline").toBe(-2);
  });

  it('an extend that timed out on a paused replica ran there late: released at the lease deadline', async () => {
    await c.start(3);
    // A high failure threshold: the paused replica is never marked down, the lock stays held.
    const client = await quorumClient({ maxTtl: 2_000, defaultTtl: 2_000, failureThreshold: 50 });
    const [first] = preference('k');
    const lock = await client.acquire('k');
    await sleep(1_200);
    const node = c.nodes[index(first!)]!;
    node.pause();
    let extended;
    try {
      extended = await outcome(lock.extend(), 5_000);
      await sleep(100);
    } finally {
      node.resume();
    }
    expect(extended.kind === 'error' ? codeOf(extended.error) : extended.kind).toBe(
      'ERR_NODE_UNAVAILABLE',
    );

    // The late extend ran at the resume: left alone, the key stays held ~2 s from then.
    const probe = c.raw(node);
    const bound = lock.deadline + 600 - performance.now();
    await until(async () => (await probe.exists(lockKey('k'))) === 0, bound).catch(() => undefined);
    expect(await probe.pttl(lockKey('k')), "PTTL 600 ms past the lock's deadline").toBe(-2);
  });

  it('acquireMany never returns a group with a lock whose validity ran out while another key took longer', async () => {
    const nodes = await c.start(5);
    const proxies = await proxiesFor(nodes);
    const ids = ['n0', 'n1', 'n2', 'n3', 'n4'];
    const owners = (k: string): string[] => new HashRing(ids, { vnodes: 4096 }).owners(k, 3);
    // b is asked of n0 (whose link hangs) first and has n1 (whose counter is far ahead) third:
    // its attempt waits out a command timeout, then proposes again with a new send time.
    // a lives on n2–n4 alone and is granted at once. (Found in the simulator.)
    const b = keyWhere('b', (k) => owners(k).slice(0, 2).includes('n0') && owners(k)[2] === 'n1');
    const a = keyWhere('a', (k) => owners(k).every((id) => !['n0', 'n1'].includes(id)));
    const client = c.client({
      ...Q3,
      restartQuarantine: true,
      commandTimeout: 300,
      nodes: specsOf(proxies),
    });
    await connected(client);
    await c.raw(nodes[1]!).set('shardlock:fence', String(BigInt(Date.now() + 3_600_000) * 1000n));
    // n0 hangs from 250 ms before the call: still up when b's first attempt asks it, found
    // down (PINGs time out) before that attempt's command timeout ends, so b's second round,
    // after a's lease has run out, is granted at once on n1 and its other replica.
    proxies[0]!.set('both', 'blackhole');
    await sleep(250);
    const group = await client.acquireMany([a, b], {
      ttl: 250,
      retry: { attempts: 20, delay: 50 },
    });
    expect(group.locks.map((lock) => lock.isValid())).toEqual([true, true]);
    await group.release();
    proxies[0]!.heal();
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
    const down = events(client, 'nodeDown');
    const quarantined = events(client, 'nodeQuarantined');
    // A key held on n0 and one other replica: n0's death costs its holder nothing.
    const key = keyWhere('held', (k) => preference(k).slice(0, 2).includes('n0'));
    const lock = await client.acquire(key, { ttl: 300 });
    expect(lock.nodeIds).toContain('n0');
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
    // Events say what happened: the node is down, and no key waits for it.
    expect(down.map((event) => event.nodeId)).toEqual(['n0']);
    expect(quarantined).toEqual([]);
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
    expect(lock.nodeIds.sort()).toEqual(preference('k').slice(0, 2).sort());
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

describe('quorum mode with 5 replicas', () => {
  it('grants on a majority of 3 while two replicas are dead, and on none when three are', async () => {
    await c.start(5);
    const client = await quorumClient({ replicas: 5 });
    const first = await client.acquire('k');
    expect(first.nodeIds).toHaveLength(3);
    await first.release();
    await c.nodes[0]!.kill();
    await c.nodes[1]!.kill();
    await until(() => client.stats().filter((s) => s.state !== 'up').length === 2, 2_000);
    const lock = await client.acquire('k', NO_RETRY);
    expect(lock.nodeIds.sort()).toEqual(['n2', 'n3', 'n4']);
    expect(lock.fence).toBeGreaterThan(first.fence);
    await lock.release();
    await c.nodes[2]!.kill();
    await until(() => client.stats().filter((s) => s.state !== 'up').length === 3, 2_000);
    const refused = await outcome(client.acquire('k', NO_RETRY), 5_000);
    expect(refused.kind === 'error' && codeOf(refused.error)).toBe('ERR_NODE_QUARANTINED');
    for (const node of c.nodes.slice(3)) expect(await lockKeys(c.raw(node))).toEqual([]);
  });
});

describe('quorum mode: membership changes', () => {
  it('while an addition rolls out, a client that applied it and one that has not never both hold a key', async () => {
    const nodes = await c.start(4);
    const proxies = await proxiesFor(nodes);
    const specs = specsOf(nodes);
    const early = c.client({
      ...Q3,
      nodes: specsOf(proxies.slice(0, 3)),
    });
    // One after the other: two clients started within milliseconds can each take a node the
    // other just listed for one that served, and wait for its counter to be raised, which
    // the cut below then holds up (docs/safety.md, open finds: a cost, seen as this test
    // failing 2 times in 6 full runs).
    await connected(early);
    const late = c.client({ ...Q3, nodes: specs.slice(0, 3) });
    await connected(late);
    await early.addNode({ id: 'n3', port: proxies[3]!.port });
    // A key whose replica set takes in n3; `early` loses its link to a node y in both the old
    // and the new set, so its new-set majority is {x, n3}, disjoint from the old-set
    // majority {y, z} that `late` (not applied yet) may use. Joint consensus makes `early`
    // win a majority of the old set too, which `late` then cannot.
    const key = keyWhere('moved', movesTo);
    const before = new HashRing(['n0', 'n1', 'n2'], { vnodes: 4096 }).owners(key, 3);
    const after = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: 4096 }).owners(key, 3);
    const y = before.find((id) => after.includes(id))!;
    proxies[Number(y.slice(1))]!.set('both', 'blackhole');
    await until(() => early.stats().find((s) => s.id === y)!.state !== 'up', 3_000);
    const lock = await early.acquire(key, { ttl: 300 });
    expect(lock.nodeIds).not.toContain(y);
    expect(lock.nodeIds).toContain('n3');
    const refused = await outcome(late.acquire(key, NO_RETRY), 5_000);
    expect(refused.kind === 'error' && codeOf(refused.error)).toBe('ERR_LOCK_TIMEOUT');
    await lock.release();
    for (const proxy of proxies) proxy.heal();
  });
});

describe('quorum mode: a node that goes down while it is being added', () => {
  it('brings back the joint sets when it returns, for the clients that could not add it', async () => {
    // Found by the simulator: `late`'s addNode is refused while n3 is down; `early`'s window
    // ends once n3 is back, and `late` has not added it yet. `late`, cut off from one replica,
    // held the key on {y, r} of the old set; `early` was granted it on {n3, x} of the new one.
    const nodes = await c.start(4);
    const proxies = await proxiesFor(nodes);
    const specs = specsOf(nodes);
    const early = await quorumClient({ nodes: specs.slice(0, 3), restartQuarantine: false });
    const late = await quorumClient({
      nodes: specsOf(proxies.slice(0, 3)),
      restartQuarantine: false,
    });
    const ended = events(early, 'handoffEnd');
    await early.addNode(specs[3]!);
    await c.nodes[3]!.kill();
    await until(() => early.stats().find((s) => s.id === 'n3')!.state !== 'up', 3_000);
    const refused = await outcome(late.addNode(specs[3]!), 5_000);
    expect(refused.kind === 'error' && codeOf(refused.error)).toBe('ERR_NODE_UNAVAILABLE');
    // `early`'s window cannot end while n3 is down (its fence sync needs n3); it ends soon
    // after n3 is back, while `late` has still not added it.
    await c.nodes[3]!.restartEmpty();
    await until(() => early.stats().find((s) => s.id === 'n3')!.state === 'up', 5_000);
    await until(() => ended.length > 0, 5_000);

    // A key n3 takes in first: the new set is [n3, x, y], the old [x, y, r]. `late` loses its
    // link to x, so it holds the key on {y, r}; `early` asks n3 and x first.
    const newRing = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: 4096 });
    const key = keyWhere('rejoined', (k) => newRing.owners(k, 1)[0] === 'n3');
    const x = preference(key)[0]!;
    proxies[index(x)]!.set('both', 'blackhole');
    await until(() => late.stats().find((s) => s.id === x)!.state !== 'up', 3_000);
    const held = await late.acquire(key, NO_RETRY);
    expect(held.nodeIds).not.toContain(x);
    const got = await outcome(early.tryAcquire(key), 5_000);
    const seen = got.kind === 'value' ? (got.value === null ? 'refused' : 'granted') : got.kind;
    expect(seen, `late holds ${key} on ${held.nodeIds.join(', ')}`).not.toBe('granted');
    expect(held.isValid()).toBe(true);
    for (const proxy of proxies) proxy.heal();
    await held.release();
  });
});

describe('quorum mode: a client that cannot reach the node it is adding', () => {
  it('also needs a majority of the sets with that node until it has added it', async () => {
    // Found by the simulator (quorum seed 743's schedule, once its timing moved): `late` was
    // cut off from n3 while `early` added it; `early`'s window ended, and `late`, still
    // adding n3, granted a key on the old set alone while `early` held it on the new one.
    const nodes = await c.start(4);
    const proxies = await proxiesFor(nodes);
    const specs = specsOf(nodes);
    // Leases that outlast the checks below (every client of a cluster shares maxTtl).
    const leases = { restartQuarantine: false, maxTtl: 2_000, defaultTtl: 2_000 };
    const early = await quorumClient({ nodes: specs.slice(0, 3), ...leases });
    const late = await quorumClient({
      nodes: specsOf(proxies.slice(0, 3)),
      ...leases,
    });
    proxies[3]!.set('both', 'blackhole');
    const ended = events(early, 'handoffEnd');
    await early.addNode(specs[3]!);
    // `late`'s addNode fails while n3 is out of its reach; its operator retries it.
    const adding = (async (): Promise<boolean> => {
      for (let i = 0; i < 1_000; i++) {
        const done = await late.addNode({ id: 'n3', port: proxies[3]!.port }).then(
          () => true,
          () => sleep(20).then(() => false),
        );
        if (done) return true;
      }
      return false;
    })();
    await until(() => ended.length > 0, 15_000);

    // A key n3 takes in first: the new set is [n3, x, y], the old [x, y, r]. `early` holds
    // it on {n3, x}; `late` loses its link to x, so the old set alone would give it {y, r}.
    const newRing = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: 4096 });
    const key = keyWhere('adding', (k) => newRing.owners(k, 1)[0] === 'n3');
    const x = newRing.owners(key, 2)[1]!;
    const held = await early.acquire(key);
    expect(held.nodeIds.sort()).toEqual(['n3', x].sort());
    proxies[index(x)]!.set('both', 'blackhole');
    await until(() => late.stats().find((s) => s.id === x)!.state !== 'up', 3_000);
    const got = await outcome(late.tryAcquire(key), 5_000);
    const seen = got.kind === 'value' ? (got.value === null ? 'refused' : 'granted') : got.kind;
    expect(seen, `early holds ${key} on ${held.nodeIds.join(', ')}`).not.toBe('granted');
    await held.release();
    for (const proxy of proxies) proxy.heal();
    expect(await adding).toBe(true);
  });
});

describe('quorum mode: a replica that restarted while a grant was being asked', () => {
  it('does not count its vote: it answers for a new run that does not vote yet', async () => {
    // Found by a simulator hunt (`pnpm sim --replicas 3 --seed 807`): a replica asked first
    // timed out, and the same op went to the other voters of the sets taken at the start of
    // the attempt; one had restarted empty meanwhile, took the op, and its vote made the
    // majority, with a fence below the last grant's.
    await c.start(3);
    const proxies = await proxiesFor(c.nodes);
    const client = await quorumClient({
      nodes: specsOf(proxies),
      commandTimeout: 2_000,
      maxTtl: 5_000,
      defaultTtl: 5_000,
    });
    const [, second, third] = preference('k');
    proxies[index(second!)]!.set('down', 'blackhole');
    const acquiring = outcome(client.acquire('k', NO_RETRY), 10_000);
    await sleep(50);
    const stat = (): { state: string; generation: number } =>
      client.stats().find((s) => s.id === third)!;
    const before = stat().generation;
    await c.nodes[index(third!)]!.restartEmpty();
    await until(() => stat().generation > before && stat().state === 'quarantined', 1_500);
    const got = await acquiring;
    const on = got.kind === 'value' ? got.value.nodeIds : [];
    expect(on, 'a grant counted the restarted replica').not.toContain(third);
    expect(on).not.toContain(second);
    for (const proxy of proxies) proxy.heal();
  });
});

describe('quorum mode: partitions only some clients see', () => {
  it('a client cut off from one replica still locks; one cut off from two cannot take a held key nor a free one', async () => {
    const nodes = await c.start(3);
    const proxies = await proxiesFor(nodes);
    const cut = c.client({
      ...Q3,
      nodes: specsOf(proxies),
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
  });
});
