import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  LockClient,
  NodeQuarantinedError,
  NodeUnavailableError,
  type LockClientEvents,
  type LockClientOptions,
} from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import { freePort, nodeSpecs, RedisNode, startNodes, stopAllNodes } from '../harness/index.js';
import { inspect, until } from '../support/redis.js';

// Membership at runtime (docs/safety.md hazards 2–6), against real redis-server processes that
// are killed, paused, restarted empty, added and removed. Short leases keep the quarantines
// and handoff windows these tests wait out to a fraction of a second.

const MAX_TTL = 300;
/** maxTtl + drift: how long a lease granted on a node may still be believed. */
const QUARANTINE = MAX_TTL + MAX_TTL * 0.01 + 2;
/** The shortest handoff window FAST allows: QUARANTINE + 2 × 50 + 100 ms of detection lag. */
const WINDOW = 600;
const FAST: Omit<LockClientOptions, 'nodes'> = {
  maxTtl: MAX_TTL,
  defaultTtl: MAX_TTL,
  healthCheckInterval: 50,
  failureThreshold: 2,
  commandTimeout: 100,
};

let nodes: RedisNode[] = [];
const clients: LockClient[] = [];
const connections: Redis[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  connections.splice(0).forEach((connection) => connection.disconnect());
  await stopAllNodes();
});

function client(options: Partial<LockClientOptions> = {}): LockClient {
  const made = new LockClient({
    nodes: nodeSpecs(nodes),
    restartQuarantine: false,
    ...FAST,
    ...options,
  });
  made.on('nodeError', () => undefined);
  made.on('backgroundError', () => undefined);
  clients.push(made);
  return made;
}

/** Waits until every node of `c` has connected: a node paused before that is never seen up. */
async function connected(c: LockClient): Promise<void> {
  await until(() => c.stats().every((s) => s.status === 'ready' && s.state === 'up'));
}

function raw(node: RedisNode): Redis {
  const connection = inspect(node.port, { retryStrategy: () => 50 });
  connections.push(connection);
  return connection;
}

/** The first `prefix:i` key the predicate accepts. */
function keyWhere(prefix: string, accept: (key: string) => boolean): string {
  for (let i = 0; i < 100_000; i++) if (accept(`${prefix}:${i}`)) return `${prefix}:${i}`;
  throw new Error(`no ${prefix} key found`);
}

/** Every payload `source` emits as `name` from now on. */
function events<E extends keyof LockClientEvents>(
  source: LockClient,
  name: E,
): LockClientEvents[E][0][] {
  const seen: LockClientEvents[E][0][] = [];
  const listener = (...args: LockClientEvents[E]): void => void seen.push(args[0]);
  source.on(name, listener as never);
  return seen;
}

const index = (id: string): number => Number(id.slice(1));

describe('a node that fails', () => {
  it('keeps a killed node’s keys quarantined past every lease on it, then fails them over', async () => {
    nodes = await startNodes(3);
    const c = client();
    const rebalances = events(c, 'rebalance');
    const key = keyWhere('fail', (k) => c.nodeFor(k) === 'n1');
    const successor = new HashRing(['n0', 'n2'], { vnodes: c.options.vnodes }).owner(key);
    const held = await c.acquire(key);
    const epoch = c.epoch;

    await nodes[1]!.kill();
    const killedAt = performance.now();
    await until(() => c.stats().find((s) => s.id === 'n1')!.state === 'down');
    const refused = await c.tryAcquire(key).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NodeQuarantinedError);
    expect((refused as NodeQuarantinedError).retryAfter).toBeGreaterThan(0);
    expect((refused as NodeQuarantinedError).retryAfter).toBeLessThanOrEqual(QUARANTINE + 1);

    // Waiting is allowed: the grant comes from the successor, once the holder's lease is over.
    const next = await c.acquire(key, { waitTimeout: 5_000 });
    expect(performance.now() - killedAt).toBeGreaterThanOrEqual(MAX_TTL);
    expect(next.nodeIds).toEqual([successor]);
    expect(next.fence).toBeGreaterThan(held.fence);
    expect(c.epoch).toBeGreaterThan(epoch);
    expect(rebalances.map((e) => [e.reason, e.nodeId])).toEqual([['failover', 'n1']]);
    expect(rebalances[0]!.movedShare).toBeGreaterThan(0.15);
    expect(rebalances[0]!.movedShare).toBeLessThan(0.55);
    const stats = c.stats().find((s) => s.id === 'n1')!;
    expect([stats.state, stats.share]).toEqual(['failed-over', 0]);
  });

  it('detects an empty restart by its run_id and quarantines the node’s keys', async () => {
    nodes = await startNodes(3);
    const c = client({ healthCheckInterval: 10_000 });
    const restarted = events(c, 'nodeRestarted');
    const key = keyWhere('restart', (k) => c.nodeFor(k) === 'n2');
    const before = await c.acquire(key, { ttl: MAX_TTL });

    await nodes[2]!.restartEmpty();
    await until(() => restarted.length > 0);
    expect(restarted).toEqual([{ nodeId: 'n2' }]);
    // The empty server would grant the key at once; the client must not believe two holders.
    expect(await raw(nodes[2]!).exists(`shardlock:lock:${key}`)).toBe(0);
    await expect(c.tryAcquire(key)).rejects.toBeInstanceOf(NodeQuarantinedError);
    expect(c.stats().find((s) => s.id === 'n2')!.state).toBe('quarantined');

    // Its keys come back to it, and (as this client's health checks are slow to agree with
    // another's) they also win on the successor for a handoff window.
    const after = await c.acquire(key, { waitTimeout: 5_000 });
    expect(after.nodeIds).toEqual([new HashRing(['n0', 'n1']).owner(key), 'n2']);
    expect(after.fence).toBeGreaterThan(before.fence);
    expect(before.isValid()).toBe(false);
  });

  it('a client that meets a young server the cluster lists waits out the restart quarantine', async () => {
    nodes = await startNodes(2);
    // Servers report uptime in whole seconds: a quarantine of 3 s covers a slow start.
    const options = { restartQuarantine: true, maxTtl: 3_000, defaultTtl: 3_000 };
    // A brand-new cluster: no record lists these servers, so there is nothing to wait for.
    const first = client(options);
    const key = keyWhere('fresh', (k) => first.nodeFor(k) === 'n0');
    await (await first.acquire(key)).release();
    await first.close();
    // Now n1's record lists n0: when n0 restarts empty it may have lost leases. (Were every
    // server to restart empty at once, nothing would tell that from a new cluster.)
    await nodes[0]!.restartEmpty();
    const c = client(options);
    const quarantined = events(c, 'nodeQuarantined');
    await c.ready();
    expect(quarantined.map((e) => e.nodeId)).toEqual(['n0']);
    await expect(c.tryAcquire(key)).rejects.toBeInstanceOf(NodeQuarantinedError);
    const lock = await c.acquire(key, { waitTimeout: 5_000 });
    expect(lock.isValid()).toBe(true);
    // Another client may have failed the node over while it was gone and still serve its keys
    // on the successor: this client wins there too, for a handoff window.
    expect(lock.nodeIds).toEqual([
      new HashRing(['n0', 'n1']).remove(c.nodeFor(key)).owner(key),
      c.nodeFor(key),
    ]);
  });

  it('fails over the keys of a node unreachable since the client started, and takes it in when it comes', async () => {
    nodes = await startNodes(2);
    const port = await freePort();
    const specs = [...nodeSpecs(nodes), { id: 'late', host: '127.0.0.1', port }];
    const c = client({ nodes: specs, handoffWindow: WINDOW });
    const rebalances = events(c, 'rebalance');
    const ended = events(c, 'handoffEnd');
    const key = keyWhere('late', (k) => c.nodeFor(k) === 'late');
    const successor = new HashRing(['n0', 'n1']).owner(key);
    await until(() => c.stats().find((s) => s.id === 'late')!.state === 'down');
    // With one record out of reach, the client cannot tell whether another client lists n0
    // and n1 and failed them over unseen: it wins on their successors for a detection lag
    // too. Those windows end once the fence sync can read every node, after late's failover.
    await until(() => rebalances.length >= 2);
    expect(rebalances.map((e) => [e.reason, e.nodeId])).toEqual([
      ['start', 'n0'],
      ['start', 'n1'],
    ]);
    await until(() => ended.length === 2, 5_000);
    const lock = await c.acquire(key, { waitTimeout: 5_000 });
    expect(lock.nodeIds).toEqual([successor]);
    expect(rebalances.slice(2).map((e) => [e.reason, e.nodeId])).toEqual([['failover', 'late']]);
    await lock.release();

    const late = await RedisNode.start({ port });
    // Once it answers it rejoins, its keys handed off from the successor that served them.
    await until(() => rebalances.length === 4, 5_000);
    expect(rebalances[3]!.reason).toBe('rejoin');
    const back = await c.acquire(key);
    expect(back.nodeIds).toEqual([successor, 'late']);
    await back.release();
    await late.stop();
  });

  it('marks a SIGSTOPped node down by health checks, fails over, and hands keys back on SIGCONT', async () => {
    nodes = await startNodes(3);
    const c = client({ handoffWindow: WINDOW });
    const rebalances = events(c, 'rebalance');
    const downs = events(c, 'nodeDown');
    const ended = events(c, 'handoffEnd');
    const key = keyWhere('pause', (k) => c.nodeFor(k) === 'n0');
    const successor = new HashRing(['n1', 'n2'], { vnodes: c.options.vnodes }).owner(key);

    await connected(c);
    nodes[0]!.pause();
    await until(() => rebalances.length === 1, 5_000);
    expect(downs.map((d) => d.reason)).toEqual(['health']);
    expect(rebalances[0]!.reason).toBe('failover');
    const during = await c.acquire(key);
    expect(during.nodeIds).toEqual([successor]);
    await during.release();

    nodes[0]!.resume();
    await until(() => rebalances.length === 2, 5_000);
    expect(rebalances[1]!.reason).toBe('rejoin');
    // Back on its node, and on the successor too while another client may still use it.
    const handoff = await c.acquire(key);
    expect(handoff.nodeIds).toEqual([successor, 'n0']);
    await handoff.release();
    // The rejoin's window ends (a failover opens none: no lease on the node is believed by
    // then); then the node alone serves it.
    await until(() => ended.length === 1, 3_000);
    const settled = await c.acquire(key);
    expect(settled.nodeIds).toEqual(['n0']);
  });

  it('after a pause too short to fail over, still wins on the successor for a handoff window', async () => {
    nodes = await startNodes(3);
    // With detection lag 2 × 50 + 100 ms, another client could have failed over after
    // QUARANTINE − 2 × lag of this pause: this client must not use the node alone.
    const c = client({ handoffWindow: WINDOW });
    const rebalances = events(c, 'rebalance');
    const key = keyWhere('short', (k) => c.nodeFor(k) === 'n2');
    const successor = new HashRing(['n0', 'n1'], { vnodes: c.options.vnodes }).owner(key);
    const downs = events(c, 'nodeDown');
    await connected(c);
    nodes[2]!.pause();
    await until(() => downs.length === 1);
    nodes[2]!.resume();
    await until(() => c.stats().find((s) => s.id === 'n2')!.state === 'up');
    expect(rebalances.map((e) => e.reason)).toEqual(['rejoin']);
    const lock = await c.acquire(key);
    expect(lock.nodeIds).toEqual([successor, 'n2']);
  });
});

describe('addNode and removeNode', () => {
  it('hands moved keys off: old and new owner both, then the new one alone', async () => {
    nodes = await startNodes(4);
    const specs = nodeSpecs(nodes);
    const c = client({ nodes: specs.slice(0, 3), handoffWindow: WINDOW });
    const ended = events(c, 'handoffEnd');
    const rebalances = events(c, 'rebalance');
    const moving = keyWhere(
      'move',
      (k) => new HashRing(['n0', 'n1', 'n2', 'n3']).owner(k) === 'n3',
    );
    const staying = keyWhere(
      'stay',
      (k) => new HashRing(['n0', 'n1', 'n2', 'n3']).owner(k) !== 'n3',
    );
    const oldOwner = c.nodeFor(moving);
    const epoch = c.epoch;

    await c.addNode(specs[3]!);
    expect(c.epoch).toBe(epoch + 1);
    expect(rebalances.map((e) => [e.reason, e.nodeId])).toEqual([['add', 'n3']]);
    expect(rebalances[0]!.movedShare).toBeGreaterThan(0.15);
    expect(rebalances[0]!.movedShare).toBeLessThan(0.35);
    expect(c.nodeFor(moving)).toBe('n3');

    const lock = await c.acquire(moving);
    expect(lock.nodeIds).toEqual([oldOwner, 'n3']);
    const token = lock.token;
    expect(await raw(nodes[index(oldOwner)]!).get(`shardlock:lock:${moving}`)).toBe(token);
    expect(await raw(nodes[3]!).get(`shardlock:lock:${moving}`)).toBe(token);
    // A client that has not applied the change yet still meets the lease on the old owner.
    const lagging = client({ nodes: specs.slice(0, 3) });
    expect(await lagging.tryAcquire(moving)).toBeNull();
    await lock.release();
    expect((await c.acquire(staying)).nodeIds).toHaveLength(1);

    await until(() => ended.length === 1);
    const after = await c.acquire(moving);
    expect(after.nodeIds).toEqual(['n3']);
    expect(after.fence).toBeGreaterThan(lock.fence);
  });

  it('extends a lease taken before the change onto the key’s new owner', async () => {
    nodes = await startNodes(4);
    const specs = nodeSpecs(nodes);
    const c = client({ nodes: specs.slice(0, 3), handoffWindow: 2_000 });
    const moving = keyWhere(
      'extend',
      (k) => new HashRing(['n0', 'n1', 'n2', 'n3']).owner(k) === 'n3',
    );
    const lock = await c.acquire(moving);
    const oldOwner = lock.nodeId;
    await c.addNode(specs[3]!);
    await lock.extend();
    expect(lock.nodeIds).toEqual([oldOwner, 'n3']);
    expect(await raw(nodes[3]!).get(`shardlock:lock:${moving}`)).toBe(lock.token);
    expect(await raw(nodes[3]!).pttl(`shardlock:lock:${moving}`)).toBeGreaterThan(0);
    expect(await lock.release()).toBe(true);
    expect(await raw(nodes[3]!).exists(`shardlock:lock:${moving}`)).toBe(0);
  });

  it('keeps fences rising when a key moves to a node whose counter is behind', async () => {
    nodes = await startNodes(4);
    const specs = nodeSpecs(nodes);
    const c = client({ nodes: specs.slice(0, 3), handoffWindow: WINDOW });
    const ended = events(c, 'handoffEnd');
    const moving = keyWhere(
      'fence',
      (k) => new HashRing(['n0', 'n1', 'n2', 'n3']).owner(k) === 'n3',
    );
    const oldOwner = nodes[index(c.nodeFor(moving))]!;
    // The old owner's counter runs far ahead of the new owner's clock.
    const ahead = BigInt(Date.now()) * 1000n + 10n ** 12n;
    await raw(oldOwner).set('shardlock:fence', ahead.toString());
    const first = await c.acquire(moving);
    expect(first.fence).toBeGreaterThan(ahead);
    await first.release();

    await c.addNode(specs[3]!);
    const during = await c.acquire(moving);
    expect(during.fence).toBeGreaterThan(first.fence);
    await during.release();
    await until(() => ended.length === 1);
    const settled = await c.acquire(moving);
    expect(settled.nodeIds).toEqual(['n3']);
    expect(settled.fence).toBeGreaterThan(during.fence);
  });

  it('removes a node: its keys move at once, it stays an old owner for the window, then closes', async () => {
    nodes = await startNodes(3);
    const c = client({ handoffWindow: WINDOW });
    const key = keyWhere('leave', (k) => c.nodeFor(k) === 'n1');
    const held = await c.acquire(key);
    await c.removeNode('n1');
    expect(c.nodeFor(key)).not.toBe('n1');
    expect(c.stats().find((s) => s.id === 'n1')!.state).toBe('leaving');
    // Its lease on the leaving node still counts.
    expect(await c.tryAcquire(key)).toBeNull();
    await held.release();
    const during = await c.acquire(key);
    expect(during.nodeIds).toEqual(['n1', c.nodeFor(key)]);
    await during.release();
    await until(() => c.stats().every((s) => s.id !== 'n1'), 2_000);
    const after = await c.acquire(key);
    expect(after.nodeIds).toEqual([c.nodeFor(key)]);
    expect(
      c
        .stats()
        .map((s) => s.share)
        .reduce((a, b) => a + b),
    ).toBeCloseTo(1, 6);
  });

  it('a withLock holder outlives its node’s removal: extends move the lease, nothing aborts', async () => {
    nodes = await startNodes(3);
    const c = client({ handoffWindow: WINDOW });
    const errors = events(c, 'backgroundError');
    const key = keyWhere('outlive', (k) => c.nodeFor(k) === 'n0');
    let newOwner = '';
    const result = await c.withLock(
      key,
      async (signal, lock) => {
        await c.removeNode('n0');
        newOwner = c.nodeFor(key);
        // Past the handoff window: n0's connection closes while the work goes on.
        await until(() => c.stats().every((s) => s.id !== 'n0'), 3_000);
        await sleep(MAX_TTL);
        expect(signal.aborted).toBe(false);
        expect(lock.isValid()).toBe(true);
        expect(lock.nodeIds).toEqual([newOwner]);
        return 'done';
      },
      { ttl: MAX_TTL },
    );
    expect(result).toBe('done');
    expect(errors).toEqual([]);
    expect(await raw(nodes[index(newOwner)]!).exists(`shardlock:lock:${key}`)).toBe(0);
  });

  it('releases a lock taken during a handoff after the removed node has gone', async () => {
    nodes = await startNodes(3);
    // A lease that outlasts the window: taken near its end, released after the node retired.
    const c = client({ maxTtl: 1_000, defaultTtl: 1_000, handoffWindow: 1_300 });
    const key = keyWhere('late-release', (k) => c.nodeFor(k) === 'n2');
    await c.removeNode('n2');
    await sleep(900);
    const lock = await c.acquire(key);
    expect(lock.nodeIds).toEqual(['n2', c.nodeFor(key)]);
    await until(() => c.stats().every((s) => s.id !== 'n2'), 3_000);
    expect(await lock.release()).toBe(true);
    expect(await raw(nodes[index(c.nodeFor(key))]!).exists(`shardlock:lock:${key}`)).toBe(0);
  });

  it('two clients applying the change at different moments never grant a key twice', async () => {
    nodes = await startNodes(4);
    const specs = nodeSpecs(nodes);
    const a = client({ nodes: specs.slice(0, 3), handoffWindow: 800 });
    const b = client({ nodes: specs.slice(0, 3), handoffWindow: 800 });
    const keys = Array.from({ length: 40 }, (_, i) => `lag:${i}`);
    const holders = new Map<string, string>();
    let doubles = 0;
    let grants = 0;
    let running = true;
    const worker = async (c: LockClient, name: string): Promise<void> => {
      for (let i = 0; running && i < 10_000; i++) {
        const key = keys[i % keys.length]!;
        const lock = await c.tryAcquire(key, { ttl: MAX_TTL }).catch(() => null);
        if (lock === null) continue;
        grants++;
        if (holders.has(key)) doubles++;
        holders.set(key, name);
        await sleep(1);
        holders.delete(key);
        await lock.release().catch(() => undefined);
      }
    };
    const work = Promise.all([worker(a, 'a'), worker(a, 'a2'), worker(b, 'b'), worker(b, 'b2')]);
    await sleep(100);
    await a.addNode(specs[3]!);
    await sleep(300);
    await b.addNode(specs[3]!);
    await sleep(200);
    await a.removeNode('n0');
    await sleep(300);
    await b.removeNode('n0');
    await sleep(200);
    running = false;
    await work;
    expect(grants).toBeGreaterThan(100);
    expect(doubles).toBe(0);
  });

  it('closing the client is no node failure: no down, quarantine or error events', async () => {
    nodes = await startNodes(2);
    const c = client();
    await connected(c);
    const seen = [events(c, 'nodeDown'), events(c, 'nodeQuarantined'), events(c, 'nodeError')];
    await c.close();
    await sleep(100);
    expect(seen).toEqual([[], [], []]);
  });

  it('refuses bad membership changes with typed errors, changing nothing', async () => {
    nodes = await startNodes(2);
    const specs = nodeSpecs(nodes);
    const c = client({ nodes: specs.slice(0, 1) });
    const epoch = c.epoch;
    await expect(c.addNode(specs[0]!)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.addNode({ ...specs[1]!, id: 'n0' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(c.addNode({ id: 'x', host: '127.0.0.1', port: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(c.removeNode('nope')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.removeNode('n0')).rejects.toBeInstanceOf(InvalidArgumentError);
    const port = await freePort();
    const unreachable = await c
      .addNode({ id: 'gone', host: '127.0.0.1', port }, 300)
      .catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(NodeUnavailableError);
    expect(c.epoch).toBe(epoch);
    expect(c.stats().map((s) => s.id)).toEqual(['n0']);
  });
});
