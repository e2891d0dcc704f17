import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, LockClient } from '@shardlock/core';
import { nodeSpecs, startNodes, stopAllNodes, type RedisNode } from '../harness/index.js';
import { inspect, lockCommandCount, resetNodes } from '../support/redis.js';

// The harness starts these nodes empty for this file, so no lock was granted on an earlier run
// of theirs: the restart quarantine is off here (core-membership.test.ts tests it).

let nodes: RedisNode[];
let raw: Redis[];
let client: LockClient;

beforeAll(async () => {
  nodes = await startNodes(3);
  raw = nodes.map((node) => inspect(node.port));
  client = new LockClient({ restartQuarantine: false, nodes: nodeSpecs(nodes), maxTtl: 10_000 });
  // Connect first, so a rejected call cannot hide behind a connection that is not up yet.
  await (await client.acquire('warm-up')).release();
});
afterAll(async () => {
  await client.close();
  raw.forEach((r) => r.disconnect());
  await stopAllNodes();
});

// Casts stand for callers without TypeScript, who can pass anything.
const loose = (value: unknown): never => value as never;

const BAD_CALLS: [string, () => Promise<unknown>, RegExp][] = [
  ['an empty key', () => client.acquire(''), /lock key must be a string of 1 to 1024/],
  [
    'an oversized key',
    () => client.acquire('k'.repeat(1025)),
    /lock key must be a string of 1 to 1024/,
  ],
  ['a key that is not a string', () => client.acquire(loose(42)), /lock key must be a string/],
  [
    'ttl 0',
    () => client.acquire('k', { ttl: 0 }),
    /ttl must be an integer from 3 \(the shortest lease that leaves validity after drift\) to 10000 ms/,
  ],
  ['a negative ttl', () => client.acquire('k', { ttl: -5 }), /ttl must be an integer/],
  ['a fractional ttl', () => client.acquire('k', { ttl: 1.5 }), /ttl must be an integer/],
  ['a NaN ttl', () => client.acquire('k', { ttl: Number.NaN }), /ttl must be an integer/],
  [
    'an infinite ttl',
    () => client.acquire('k', { ttl: Number.POSITIVE_INFINITY }),
    /ttl must be an integer/,
  ],
  [
    'a ttl above maxTtl',
    () => client.acquire('k', { ttl: 10_001 }),
    /to 10000 ms \(maxTtl\), received 10001/,
  ],
  [
    'a ttl given as a string',
    () => client.acquire('k', { ttl: loose('500') }),
    /ttl must be an integer/,
  ],
  [
    'an unknown acquire option',
    () => client.acquire('k', loose({ tll: 500 })),
    /unknown acquire option "tll"/,
  ],
  [
    'negative retry attempts',
    () => client.acquire('k', { retry: { attempts: -1 } }),
    /retry.attempts/,
  ],
  [
    'an unknown retry option',
    () => client.acquire('k', { retry: loose({ retries: 3 }) }),
    /unknown retry option/,
  ],
  ['a negative waitTimeout', () => client.acquire('k', { waitTimeout: -1 }), /waitTimeout/],
  [
    'a signal that is not an AbortSignal',
    () => client.acquire('k', { signal: loose({ aborted: false }) }),
    /signal must be an AbortSignal/,
  ],
  [
    'fair not a boolean',
    () => client.acquire('k', { fair: loose('yes') }),
    /fair must be a boolean/,
  ],
  ['tryAcquire with an empty key', () => client.tryAcquire(''), /lock key/],
  ['tryAcquire with a bad ttl', () => client.tryAcquire('k', { ttl: 0 }), /ttl must be/],
  [
    'withLock without a function',
    () => client.withLock('k', loose(null)),
    /withLock needs a function/,
  ],
  [
    'withLock with autoExtend not a boolean',
    () => client.withLock('k', () => 1, { autoExtend: loose('yes') }),
    /autoExtend must be a boolean/,
  ],
  ['acquireMany with no keys', () => client.acquireMany([]), /keys must be an array of 1 to 1000/],
  [
    'acquireMany with a duplicate key',
    () => client.acquireMany(['a', 'b', 'a']),
    /key "a" appears more than once/,
  ],
  [
    'acquireMany with a bad key among good ones',
    () => client.acquireMany(['a', '', 'b']),
    /lock key/,
  ],
  ['acquireMany with a bad ttl', () => client.acquireMany(['a', 'b'], { ttl: 0 }), /ttl must be/],
  [
    'acquireMany with keys that are not an array',
    () => client.acquireMany(loose('a,b')),
    /keys must be an array/,
  ],
];

describe('bad input is refused before any command reaches Redis', () => {
  it.each(BAD_CALLS)('%s', async (_name, call, message) => {
    await resetNodes(raw);
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
    expect((error as Error).message).toMatch(message);
    const counts = await Promise.all(raw.map(lockCommandCount));
    expect(counts).toEqual([0, 0, 0]);
  });

  it('a bad extend ttl is refused without a command, and the lock stays held', async () => {
    const lock = await client.acquire('extend-bad', { ttl: 5_000 });
    await resetNodes(raw);
    await expect(lock.extend(0)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(lock.extend(20_000)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await Promise.all(raw.map(lockCommandCount))).toEqual([0, 0, 0]);
    expect(lock.isValid()).toBe(true);
  });

  it('bad client options throw from the constructor and open no connection', async () => {
    const before = await Promise.all(
      raw.map(
        async (r) =>
          ((await r.call('CLIENT', 'LIST')) as string).split('\n').filter(Boolean).length,
      ),
    );
    expect(
      () =>
        new LockClient({
          restartQuarantine: false,
          nodes: [...nodeSpecs(nodes), { id: 'n0', port: 1 }],
        }),
    ).toThrow(InvalidArgumentError);
    expect(
      () =>
        new LockClient({ restartQuarantine: false, nodes: nodeSpecs(nodes), defaultTtl: 70_000 }),
    ).toThrow(/defaultTtl/);
    expect(() => new LockClient(loose({ nodes: nodeSpecs(nodes), ttl: 5 }))).toThrow(
      /unknown LockClient option "ttl"/,
    );
    // A fair line needs waiting marks and one owner per key.
    expect(() => new LockClient({ nodes: nodeSpecs(nodes), fair: true, wakeUp: false })).toThrow(
      /fair: true needs wakeUp/,
    );
    expect(() => new LockClient({ nodes: nodeSpecs(nodes), fair: true, replicas: 3 })).toThrow(
      /fair: true needs replicas: 1/,
    );
    expect(() => new LockClient(loose({ nodes: nodeSpecs(nodes), wakeUp: 1 }))).toThrow(
      /wakeUp must be a boolean/,
    );
    const after = await Promise.all(
      raw.map(
        async (r) =>
          ((await r.call('CLIENT', 'LIST')) as string).split('\n').filter(Boolean).length,
      ),
    );
    expect(after).toEqual(before);
  });
});
