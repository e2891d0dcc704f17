import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LockClient, LockLostError, LockTimeoutError } from '@shardlock/core';
import { bridgeToPrometheus } from '../../docs/examples/prometheus.js';
import { nodeSpecs, startNodes, stopAllNodes, type RedisNode } from '../harness/index.js';
import { inspect } from '../support/redis.js';

let nodes: RedisNode[];
let raw: Redis[];

beforeAll(async () => {
  nodes = await startNodes(3);
  raw = nodes.map((node) => inspect(node.port));
});
afterAll(async () => {
  raw.forEach((r) => r.disconnect());
  await stopAllNodes();
});

/** The value of one sample line of the exposition text, e.g. `name{label="x"} 3`. */
function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

it('docs/examples/prometheus.ts turns the channels into Prometheus metrics', async () => {
  const registry = new Registry();
  const stop = bridgeToPrometheus(registry);
  const client = new LockClient({ restartQuarantine: false, nodes: nodeSpecs(nodes) });
  try {
    const locks = await Promise.all(Array.from({ length: 10 }, (_, i) => client.acquire(`p:${i}`)));
    expect(await client.tryAcquire('p:0')).toBeNull();
    await expect(
      client.acquire('p:0', { retry: { attempts: 0, delay: 1, maxDelay: 1, jitter: 0 } }),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    await raw[Number(locks[1]!.nodeId.slice(1))]!.del(`shardlock:lock:${locks[1]!.key}`);
    await expect(locks[1]!.extend()).rejects.toBeInstanceOf(LockLostError);
    await Promise.all(locks.map((lock) => lock.release()));

    const text = await registry.metrics();
    expect(sample(text, 'shardlock_acquire_seconds_count{outcome="granted"}')).toBe(10);
    expect(sample(text, 'shardlock_acquire_seconds_count{outcome="held"}')).toBe(1);
    expect(sample(text, 'shardlock_acquire_seconds_count{outcome="ERR_LOCK_TIMEOUT"}')).toBe(1);
    expect(sample(text, 'shardlock_locks_lost_total{reason="not-owner"}')).toBe(1);
    const ops = ['n0', 'n1', 'n2'].reduce(
      (sum, node) => sum + sample(text, `shardlock_batch_ops_sum{node="${node}"}`),
      0,
    );
    // 10 acquires, 1 + 1 refused, 1 extend, 10 releases (one finds the key gone).
    expect(ops).toBe(23);
    // The client's own figures agree.
    expect(client.metrics().grants).toBe(10);
  } finally {
    stop();
    await client.close();
  }
  // Stopped: nothing more is recorded.
  const before = await registry.metrics();
  const other = new LockClient({ restartQuarantine: false, nodes: nodeSpecs(nodes) });
  await (await other.acquire('p:after')).release();
  await other.close();
  expect(await registry.metrics()).toBe(before);
});
