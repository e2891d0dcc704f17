import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HashRing } from '@shardlock/ring';
import { createHash } from 'node:crypto';
import { BATCH_SCRIPT } from '@shardlock/core/internal';
import {
  LockClient,
  LockLostError,
  LockTimeoutError,
  ClientClosedError,
  type Lock,
} from '@shardlock/core';
import { nodeSpecs, startNodes, stopAllNodes, type RedisNode } from '../harness/index.js';
import { inspect, resetNodes } from '../support/redis.js';

// The harness starts these nodes empty for this file, so no lock was granted on an earlier run
// of theirs: the restart quarantine is off here (core-membership.test.ts tests it).

let nodes: RedisNode[];
let raw: Redis[];
let client: LockClient;
const BATCH_SHA = createHash('sha1').update(BATCH_SCRIPT).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
});
afterEach(async () => {
  await client.close();
});

describe('routing', () => {
  it('stores each key on the node the ring names, and only there', async () => {
    const ring = new HashRing(['n0', 'n1', 'n2']);
    const keys = Array.from({ length: 120 }, (_, i) => `route:${i}`);
    const locks = await Promise.all(keys.map((key) => client.acquire(key, { ttl: 5_000 })));
    const used = new Set<string>();
    for (const lock of locks) {
      const owner = ring.owner(lock.key);
      used.add(owner);
      expect(lock.nodeId).toBe(owner);
      expect(client.nodeFor(lock.key)).toBe(owner);
      for (const [i, r] of raw.entries()) {
        const value = await r.get(`shardlock:lock:${lock.key}`);
        expect(value).toBe(`n${i}` === owner ? lock.token : null);
      }
    }
    expect(used.size).toBe(3);
  });
});

describe('the batch call, encoded by hand', () => {
  it('stores keys of any script (several bytes a character) under exactly their UTF-8 name', async () => {
    const keys = ['clé', 'ключ', '鍵', 'emoji:😀', 'mixed:a€b😀c', 'x'.repeat(300)];
    const locks = await Promise.all(keys.map((key) => client.acquire(key, { ttl: 5_000 })));
    for (const lock of locks) {
      const node = raw[Number(lock.nodeId.slice(1))]!;
      expect(await node.get(`shardlock:lock:${lock.key}`)).toBe(lock.token);
      const listed = await node.keys(`shardlock:lock:${lock.key}`);
      expect(listed).toEqual([`shardlock:lock:${lock.key}`]);
    }
    expect(await Promise.all(locks.map((lock) => lock.release()))).toEqual(keys.map(() => true));
  });

  it('loads the script again on a node that forgot it (SCRIPT FLUSH), and the call still decides', async () => {
    const first = await client.acquire('flushed', { ttl: 5_000 });
    const node = raw[Number(first.nodeId.slice(1))]!;
    await node.script('FLUSH');
    expect(await node.script('EXISTS', BATCH_SHA)).toEqual([0]);
    expect(await client.tryAcquire('flushed', { ttl: 5_000 })).toBeNull();
    expect(await node.script('EXISTS', BATCH_SHA)).toEqual([1]);
    expect(await first.release()).toBe(true);
    const second = await client.acquire('flushed', { ttl: 5_000 });
    expect(second.fence).toBeGreaterThan(first.fence);
    await second.release();
  });
});

describe('acquire and release', () => {
  it('grants one holder and refuses a second while it holds', async () => {
    const lock = await client.acquire('solo', { ttl: 2_000 });
    expect(lock.isValid()).toBe(true);
    expect(await client.tryAcquire('solo')).toBeNull();
    expect(await lock.release()).toBe(true);
    expect(await lock.release()).toBe(false);
    const again = await client.tryAcquire('solo');
    expect(again).not.toBeNull();
    await again?.release();
  });

  it('lets a lease expire, after which the old holder is no longer valid', async () => {
    const lock = await client.acquire('expiring', { ttl: 150 });
    await sleep(200);
    expect(lock.isValid()).toBe(false);
    const next = await client.acquire('expiring', { ttl: 1_000 });
    expect(await lock.release()).toBe(false);
    expect(await raw[Number(next.nodeId.slice(1))]!.get('shardlock:lock:expiring')).toBe(
      next.token,
    );
    await next.release();
  });

  it('measures validity from before the request: ttl − elapsed − drift', async () => {
    const before = Date.now();
    const lock = await client.acquire('validity', { ttl: 5_000 });
    const after = Date.now();
    expect(lock.validUntil).toBeLessThanOrEqual(after + 5_000 - 50 - 2);
    expect(lock.validUntil).toBeGreaterThan(before + 4_000);
    await lock.release();
  });

  it('waits for a holder and takes the key when it is released', async () => {
    const first = await client.acquire('queue', { ttl: 5_000 });
    const second = client.acquire('queue', {
      ttl: 5_000,
      retry: { attempts: 100, delay: 10, jitter: 5 },
    });
    await sleep(60);
    await first.release();
    const lock = await second;
    expect(lock.fence).toBeGreaterThan(first.fence);
    await lock.release();
  });

  it('gives up after the retries, or at waitTimeout, with LockTimeoutError', async () => {
    const holder = await client.acquire('busy', { ttl: 5_000 });
    const byAttempts = await client
      .acquire('busy', { retry: { attempts: 3, delay: 5, jitter: 0 } })
      .catch((e: unknown) => e);
    expect(byAttempts).toBeInstanceOf(LockTimeoutError);
    expect((byAttempts as LockTimeoutError).attempts).toBe(4);
    expect((byAttempts as LockTimeoutError).key).toBe('busy');
    const started = performance.now();
    const byTime = await client
      .acquire('busy', { waitTimeout: 150, retry: { attempts: 1_000, delay: 20, jitter: 0 } })
      .catch((e: unknown) => e);
    const waited = performance.now() - started;
    expect(byTime).toBeInstanceOf(LockTimeoutError);
    // It waited for the timeout, not for the 1,000 retries (20 s and more) nor the holder (5 s).
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(2_000);
    expect(await holder.release()).toBe(true);
  });

  it('extends a held lock and keeps it past its first TTL', async () => {
    const lock = await client.acquire('extend', { ttl: 200 });
    await sleep(100);
    await lock.extend(400);
    await sleep(200);
    expect(lock.isValid()).toBe(true);
    expect(await client.tryAcquire('extend')).toBeNull();
    expect(await lock.release()).toBe(true);
  });

  it('works after the script cache is flushed (NOSCRIPT falls back to EVAL)', async () => {
    await (await client.acquire('warm')).release();
    await Promise.all(raw.map((r) => r.script('FLUSH')));
    const lock = await client.acquire('after-flush');
    expect(await lock.release()).toBe(true);
  });

  it('supports await using', async () => {
    let held: Lock | undefined;
    {
      await using lock = await client.acquire('disposable', { ttl: 2_000 });
      held = lock;
      expect(await client.tryAcquire('disposable')).toBeNull();
    }
    expect(held.isValid()).toBe(false);
    const next = await client.tryAcquire('disposable');
    expect(next).not.toBeNull();
    await next?.release();
  });
});

describe('tokens', () => {
  it('a foreign token can neither release nor extend', async () => {
    const old = await client.acquire('foreign', { ttl: 100 });
    await sleep(150);
    const current = await client.acquire('foreign', { ttl: 5_000 });
    expect(await old.release()).toBe(false);
    await expect(old.extend(5_000)).rejects.toBeInstanceOf(LockLostError);
    const node = raw[Number(current.nodeId.slice(1))]!;
    expect(await node.get('shardlock:lock:foreign')).toBe(current.token);
    // And straight at the script: a made-up token is refused.
    const forged = 'x'.repeat(22);
    const reply = await node.eval(
      BATCH_SCRIPT,
      3,
      'shardlock:fence',
      'shardlock:lock:foreign',
      'shardlock:lock:foreign',
      `r${forged}`,
      `e${forged}60000`,
    );
    expect(reply).toEqual([0, 0]);
    expect(await node.get('shardlock:lock:foreign')).toBe(current.token);
    expect(await node.pttl('shardlock:lock:foreign')).toBeLessThanOrEqual(5_000);
    await current.release();
  });

  it('gives every grant a different 128-bit token', async () => {
    const locks = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.acquire(`tok:${i}`)),
    );
    expect(new Set(locks.map((l) => l.token)).size).toBe(50);
    for (const lock of locks) expect(lock.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await Promise.all(locks.map((l) => l.release()));
  });
});

describe('fences', () => {
  it('strictly increase for successive grants of a key', async () => {
    let previous = -1n;
    for (let i = 0; i < 30; i++) {
      const lock = await client.acquire('fenced');
      expect(lock.fence).toBeGreaterThan(previous);
      previous = lock.fence;
      await lock.release();
    }
  });

  it('keep increasing after the key’s node restarts empty', async () => {
    const first = await client.acquire('restart-fence', { ttl: 1_000 });
    await first.release();
    const index = Number(first.nodeId.slice(1));
    await client.close();
    await nodes[index]!.restartEmpty();
    raw[index]!.disconnect();
    raw[index] = inspect(nodes[index]!.port);
    client = new LockClient({ restartQuarantine: false, nodes: nodeSpecs(nodes), maxTtl: 10_000 });
    expect(await raw[index].get('shardlock:fence')).toBeNull();
    const second = await client.acquire('restart-fence', { ttl: 1_000 });
    expect(second.nodeId).toBe(first.nodeId);
    expect(second.fence).toBeGreaterThan(first.fence);
    await second.release();
  });
});

describe('close', () => {
  it('rejects calls after close with ClientClosedError', async () => {
    await client.close();
    await expect(client.acquire('closed')).rejects.toBeInstanceOf(ClientClosedError);
    await expect(client.tryAcquire('closed')).rejects.toBeInstanceOf(ClientClosedError);
  });
});
