import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CHANNELS,
  LockClient,
  LockLostError,
  LockTimeoutError,
  type AcquireTrace,
  type BatchMessage,
  type Lock,
  type LockLostMessage,
  type LockTrace,
  type NodeStateMessage,
} from '@shardlock/core';
import { nodeSpecs, startNodes, stopAllNodes, type RedisNode } from '../harness/index.js';
import { inspect, resetNodes, until } from '../support/redis.js';

// Nodes started empty for this file: the restart quarantine is off (as in core-basics).

let nodes: RedisNode[];
let raw: Redis[];
let client: LockClient;

beforeAll(async () => {
  nodes = await startNodes(3);
  raw = nodes.map((node) => inspect(node.port));
});
afterAll(async () => {
  raw.forEach((r) => r.disconnect());
  await stopAllNodes();
});
beforeEach(async () => {
  await resetNodes(raw);
  client = new LockClient({ restartQuarantine: false, nodes: nodeSpecs(nodes), maxTtl: 10_000 });
  await client.ready();
});
afterEach(async () => {
  await client.close();
});

/** Collects what `name` publishes while `run` runs. */
async function collect<T>(name: string, run: () => Promise<unknown>): Promise<T[]> {
  const seen: T[] = [];
  const listener = (message: unknown): void => void seen.push(message as T);
  subscribe(name, listener);
  try {
    await run();
  } finally {
    unsubscribe(name, listener);
  }
  return seen;
}

describe('client.metrics()', () => {
  it('counts grants, contended attempts, timeouts and hold times, and every batch per node', async () => {
    const locks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.acquire(`m:${i}`, { ttl: 5_000 })),
    );
    await Promise.all(locks.map((lock) => lock.release()));
    // Taken by tryAcquire, which holds no turn in the key's local line: the acquire below
    // then tries in Redis rather than waiting in the line (docs/contention.md).
    const busy = (await client.tryAcquire('m:busy', { ttl: 5_000 }))!;
    expect(await client.tryAcquire('m:busy')).toBeNull();
    await expect(
      client.acquire('m:busy', { retry: { attempts: 2, delay: 5, maxDelay: 5, jitter: 0 } }),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    const group = await client.acquireMany(['m:a', 'm:b', 'm:c']);

    const m = client.metrics();
    expect(m.grants).toBe(20 + 1 + 3);
    // tryAcquire's one, then the acquire's three tries (one and two retries).
    expect(m.contendedAttempts).toBe(1 + 3);
    expect(m.timeouts).toBe(1);
    expect(m.lostLocks).toBe(0);
    expect(m.acquireWait.count).toBe(20 + 1 + 1);
    expect(m.holdTime.count).toBe(20);
    expect(m.acquireWait.max).toBeGreaterThanOrEqual(m.acquireWait.p50);
    expect(decodeFromCompressedBase64(m.acquireWait.encoded).totalCount).toBe(22);

    const perNode = Object.entries(m.nodes);
    expect(perNode.map(([id]) => id).sort()).toEqual(['n0', 'n1', 'n2']);
    // 20 acquires + 20 releases + 1 + 1 + 3 + 3 = at least 48 ops, over batches of ≥ 1.
    const ops = perNode.reduce((sum, [, node]) => sum + node.ops, 0);
    expect(ops).toBeGreaterThanOrEqual(48);
    for (const [, node] of perNode) {
      expect(node.batches).toBeGreaterThan(0);
      expect(node.failedBatches).toBe(0);
      expect(node.roundTrip.count).toBe(node.batches);
      expect(node.batchSize.count).toBe(node.batches);
      expect(node.batchSize.max).toBeLessThanOrEqual(node.ops);
      expect(node.roundTrip.min).toBeGreaterThan(0);
    }
    await busy.release();
    await group.release();
    expect(client.metrics().holdTime.count).toBe(20 + 1 + 3);
  });

  it('counts a lock lost behind its holder’s back, and a failed batch of a killed node', async () => {
    const lock = await client.acquire('m:lost', { ttl: 5_000 });
    await raw[Number(lock.nodeId.slice(1))]!.del('shardlock:lock:m:lost');
    await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(client.metrics().lostLocks).toBe(1);

    const victim = nodes[2]!;
    victim.pause();
    try {
      const key = Array.from({ length: 64 }, (_, i) => `m:k${i}`).find(
        (k) => client.nodeFor(k) === 'n2',
      )!;
      await expect(client.acquire(key)).rejects.toThrow();
      await until(() => (client.metrics().nodes.n2?.failedBatches ?? 0) > 0, 5_000);
    } finally {
      victim.resume();
    }
  });
});

describe('node:diagnostics_channel', () => {
  it('traces acquire, extend and release with the client, the key and the outcome', async () => {
    const acquire = tracingChannel<AcquireTrace, AcquireTrace>(CHANNELS.acquire);
    const lockTraces = (name: string) => tracingChannel<LockTrace, LockTrace>(name);
    const started: AcquireTrace[] = [];
    const ended: AcquireTrace[] = [];
    const failed: AcquireTrace[] = [];
    const extended: LockTrace[] = [];
    const released: LockTrace[] = [];
    const none = (): void => undefined;
    const handlers = {
      end: none,
      asyncStart: none,
      start: (c: AcquireTrace) => void started.push(c),
      asyncEnd: (c: AcquireTrace) => void ended.push(c),
      error: (c: AcquireTrace) => void failed.push(c),
    };
    const rest = { start: none, end: none, asyncStart: none, error: none };
    const onExtend = { ...rest, asyncEnd: (c: LockTrace) => void extended.push(c) };
    const onRelease = { ...rest, asyncEnd: (c: LockTrace) => void released.push(c) };
    acquire.subscribe(handlers);
    lockTraces(CHANNELS.extend).subscribe(onExtend);
    lockTraces(CHANNELS.release).subscribe(onRelease);
    let lock: Lock;
    try {
      lock = await client.acquire('t:one', { ttl: 2_000 });
      await lock.extend(3_000);
      await expect(
        client.acquire('t:one', { retry: { attempts: 0, delay: 1, maxDelay: 1, jitter: 0 } }),
      ).rejects.toBeInstanceOf(LockTimeoutError);
      expect(await lock.release()).toBe(true);
    } finally {
      acquire.unsubscribe(handlers);
      lockTraces(CHANNELS.extend).unsubscribe(onExtend);
      lockTraces(CHANNELS.release).unsubscribe(onRelease);
    }
    expect(started.map((c) => [c.key, c.keys, c.ttl, c.client === client])).toEqual([
      ['t:one', 1, 2_000, true],
      ['t:one', 1, 10_000, true],
    ]);
    expect(ended[0]!.result).toBe(lock);
    expect(failed.map((c) => c.error)).toEqual([expect.any(LockTimeoutError)]);
    expect(extended.map((c) => [c.key, c.lock === lock, c.fence === lock.fence])).toEqual([
      ['t:one', true, true],
    ]);
    expect(released.map((c) => c.result)).toEqual([true]);
  });

  it('sends a node at most 64 ops a call: a full batch goes out while the one before is in flight', async () => {
    // A cluster of its own: one node, under its own prefix.
    const one = new LockClient({
      restartQuarantine: false,
      nodes: nodeSpecs(nodes.slice(0, 1)),
      keyPrefix: 'one:',
    });
    try {
      await one.ready();
      const batches = await collect<BatchMessage>(CHANNELS.batch, async () => {
        const locks = await Promise.all(
          Array.from({ length: 300 }, (_, i) => one.acquire(`full:${i}`)),
        );
        expect(new Set(locks.map((lock) => lock.fence)).size).toBe(300);
        expect(await Promise.all(locks.map((lock) => lock.release()))).toEqual(
          Array.from({ length: 300 }, () => true),
        );
      });
      const sizes = batches.filter((b) => b.client === one).map((b) => b.size);
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(600);
      expect(Math.max(...sizes)).toBe(64);
      expect(await raw[0]!.keys('one:lock:full:*')).toEqual([]);
    } finally {
      await one.close();
    }
  });

  it('publishes each batch call, lost locks and node state changes', async () => {
    const batches = await collect<BatchMessage>(CHANNELS.batch, async () => {
      const locks = await Promise.all(
        Array.from({ length: 30 }, (_, i) => client.acquire(`b:${i}`)),
      );
      await Promise.all(locks.map((lock) => lock.release()));
    });
    expect(batches.every((b) => b.client === client && !b.failed && b.roundTrip > 0)).toBe(true);
    expect(batches.reduce((sum, b) => sum + b.size, 0)).toBe(60);
    expect(new Set(batches.map((b) => b.nodeId))).toEqual(new Set(['n0', 'n1', 'n2']));

    const lost = await collect<LockLostMessage>(CHANNELS.lockLost, async () => {
      const lock = await client.acquire('b:lost');
      await raw[Number(lock.nodeId.slice(1))]!.del('shardlock:lock:b:lost');
      await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
    });
    expect(lost.map((l) => [l.key, l.reason, l.client === client])).toEqual([
      ['b:lost', 'not-owner', true],
    ]);

    const states = await collect<NodeStateMessage>(CHANNELS.nodeState, async () => {
      await nodes[1]!.kill();
      await until(() => client.stats().some((s) => s.id === 'n1' && s.state !== 'up'), 5_000);
    });
    await nodes[1]!.restartEmpty();
    // The node goes down, and its keys are quarantined (as the events say).
    expect(states.map((s) => [s.nodeId, s.state, s.client === client])).toEqual(
      expect.arrayContaining([
        ['n1', 'down', true],
        ['n1', 'quarantined', true],
      ]),
    );
    expect(states.every((s) => (s.event as { nodeId: string }).nodeId === 'n1')).toBe(true);
  });
});
