import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  LockAbortedError,
  LockClient,
  LockLostError,
  NodeQuarantinedError,
  type LockLostEvent,
} from '@shardlock/core';
import { nodeSpecs, startNodes, stopAllNodes, type RedisNode } from '../harness/index.js';
import { inspect, resetNodes, until } from '../support/redis.js';

// The harness starts these nodes empty for this file, so no lock was granted on an earlier run
// of theirs: the restart quarantine is off here (core-membership.test.ts tests it).

let nodes: RedisNode[];
let raw: Redis[];
let client: LockClient;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nodeIndex = (id: string): number => Number(id.slice(1));
/** Resolves once `signal` has aborted, also when it already has. */
const aborted = (signal: AbortSignal): Promise<void> =>
  signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

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
  client = new LockClient({
    restartQuarantine: false,
    nodes: nodeSpecs(nodes),
    maxTtl: 5_000,
    commandTimeout: 300,
  });
});
afterEach(async () => {
  await client.close();
});

describe('withLock', () => {
  it('holds the key across several TTLs while the work runs, then releases it', async () => {
    // The settings every client of a cluster shares are the same as the first client's.
    const other = new LockClient({
      restartQuarantine: false,
      nodes: nodeSpecs(nodes),
      maxTtl: 5_000,
    });
    const fences = new Set<bigint>();
    const result = await client.withLock(
      'long-work',
      async (signal, lock) => {
        for (let i = 0; i < 6; i++) {
          await sleep(100);
          expect(signal.aborted).toBe(false);
          expect(lock.isValid()).toBe(true);
          expect(await other.tryAcquire('long-work')).toBeNull();
          fences.add(lock.fence);
        }
        return 'done';
      },
      { ttl: 200 },
    );
    expect(result).toBe('done');
    expect(fences.size).toBe(1);
    const after = await other.tryAcquire('long-work');
    expect(after).not.toBeNull();
    await after?.release();
    await other.close();
  });

  it('without autoExtend, aborts before validity ends instead of overrunning', async () => {
    let abortedAt = 0;
    let validUntil = 0;
    await client.withLock(
      'no-extend',
      async (signal, lock) => {
        validUntil = lock.validUntil;
        await aborted(signal);
        abortedAt = Date.now();
        expect(signal.reason).toBeInstanceOf(LockLostError);
      },
      { ttl: 300, autoExtend: false },
    );
    expect(abortedAt).toBeGreaterThan(0);
    expect(abortedAt).toBeLessThan(validUntil);
  });

  it('aborts the work when the key is deleted behind the holder’s back, before validity ends', async () => {
    const lost: LockLostEvent[] = [];
    client.on('lockLost', (event) => lost.push(event));
    let validUntil = 0;
    let abortedAt = 0;
    await client.withLock(
      'stolen',
      async (signal, lock) => {
        validUntil = lock.validUntil;
        await raw[nodeIndex(lock.nodeId)]!.del('shardlock:lock:stolen');
        await aborted(signal);
        abortedAt = Date.now();
        expect((signal.reason as LockLostError).code).toBe('ERR_LOCK_LOST');
        expect(lock.isValid()).toBe(false);
      },
      { ttl: 1_000 },
    );
    expect(abortedAt).toBeLessThan(validUntil);
    expect(lost.map((e) => [e.key, e.reason])).toEqual([['stolen', 'not-owner']]);
  });

  it('aborts the work when the lock’s node is killed, before validity ends', async () => {
    const key = 'node-dies';
    const index = nodeIndex(client.nodeFor(key));
    const lost: LockLostEvent[] = [];
    client.on('lockLost', (event) => lost.push(event));
    let validUntil = 0;
    let abortedAt = 0;
    const work = client.withLock(
      key,
      async (signal, lock) => {
        validUntil = lock.validUntil;
        await nodes[index]!.kill();
        await aborted(signal);
        abortedAt = Date.now();
        expect(lock.isValid()).toBe(false);
        await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
      },
      { ttl: 3_000 },
    );
    await work;
    expect(abortedAt).toBeLessThan(validUntil);
    expect(lost.map((e) => e.reason)).toEqual(['node-lost']);
    // Its keys are quarantined: leases on it may be believed for up to maxTtl + drift.
    const quarantined = await client
      .acquire(key, { retry: { attempts: 0 } })
      .catch((e: unknown) => e);
    expect(quarantined).toBeInstanceOf(NodeQuarantinedError);
    expect((quarantined as NodeQuarantinedError).retryAfter).toBeGreaterThan(4_000);
    await nodes[index]!.restartEmpty();
    raw[index]!.disconnect();
    raw[index] = inspect(nodes[index]!.port);
  });
});

describe('abort', () => {
  it('aborting a wait rejects at once and leaves no key of the waiter behind', async () => {
    const holder = await client.acquire('abort-wait', { ttl: 2_000 });
    const controller = new AbortController();
    const waiting = client.acquire('abort-wait', {
      ttl: 2_000,
      signal: controller.signal,
      retry: { attempts: 1_000, delay: 20 },
    });
    await sleep(80);
    controller.abort(new Error('caller gave up'));
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAbortedError);
    expect((error as LockAbortedError).cause).toEqual(new Error('caller gave up'));
    await holder.release();
    await sleep(50);
    expect(await raw[nodeIndex(holder.nodeId)]!.exists('shardlock:lock:abort-wait')).toBe(0);
  });

  it('releases a grant that arrives after the abort, never leaks it', async () => {
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const key = `abort-race:${i}`;
      // The attempt is queued for this tick's batch; the abort lands while its reply travels.
      const pending = client.acquire(key, { signal: controller.signal });
      controller.abort();
      await expect(pending).rejects.toBeInstanceOf(LockAbortedError);
      const index = nodeIndex(client.nodeFor(key));
      await until(async () => (await raw[index]!.exists(`shardlock:lock:${key}`)) === 0, 1_000);
    }
  });

  it('rejects at once when the signal is already aborted, sending nothing', async () => {
    const error = await client
      .acquire('pre-aborted', { signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAbortedError);
  });
});

describe('node down', () => {
  it('fails keys of a dead node fast (quarantined, with retryAfter) and emits nodeDown', async () => {
    const downs: string[] = [];
    client.on('nodeDown', (event) => downs.push(event.nodeId));
    client.on('nodeError', () => undefined);
    const key = 'dead-node-key';
    const index = nodeIndex(client.nodeFor(key));
    await (await client.acquire(key)).release();
    await nodes[index]!.kill();
    await until(() => downs.length > 0);
    expect(downs).toEqual([`n${index}`]);
    const error = await client.acquire(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeQuarantinedError);
    expect((error as NodeQuarantinedError).nodeId).toBe(`n${index}`);
    expect((error as NodeQuarantinedError).retryAfter).toBeLessThanOrEqual(5_000 + 52);
    // Keys of the other nodes keep working.
    const other = ['a', 'b', 'c', 'd', 'e', 'f']
      .map((k) => `alive:${k}`)
      .find((k) => client.nodeFor(k) !== `n${index}`)!;
    await (await client.acquire(other)).release();
    await nodes[index]!.restartEmpty();
    raw[index]!.disconnect();
    raw[index] = inspect(nodes[index]!.port);
  });
});
