import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import {
  LockAbortedError,
  LockClient,
  LockTimeoutError,
  type LockClientOptions,
} from '@shardlock/core';
import { nodeSpecs, startNodes, stopAllNodes, type RedisNode } from '../harness/index.js';
import { inspect } from '../support/redis.js';

// Waiters woken by releases, local lines, and fair order (docs/contention.md), on real
// redis-server processes. The nodes are started empty for this file: no quarantine.

const CORE = fileURLToPath(new URL('../../packages/core/dist/index.js', import.meta.url));
const PREFIX = 'wake:';
const LEASE = 20_000;
/** Waiters' polls come this far apart: a waiter granted much sooner was woken. */
const POLL = 5_000;
const SLOW_POLLS = { delay: POLL, maxDelay: POLL, jitter: 0, attempts: 100 };

let node: RedisNode;
let quorumNodes: RedisNode[];
let admin: Redis;
const clients: LockClient[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function client(extra: Partial<LockClientOptions> = {}, nodes = [node]): LockClient {
  const made = new LockClient({
    restartQuarantine: false,
    keyPrefix: PREFIX,
    nodes: nodeSpecs(nodes),
    ...extra,
  });
  made.on('backgroundError', () => undefined);
  clients.push(made);
  return made;
}

/** The waiting marks of `key` on the node: token → `arrival µs,expiry ms`. */
const marks = (key: string, on: Redis = admin): Promise<Record<string, string>> =>
  on.hgetall(`${PREFIX}fence:w:${PREFIX}lock:${key}`);

async function until(check: () => Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const by = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > by) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

/**
 * Another process that acquires `key` (waiting up to 30 s), prints the monotonic ns of its
 * grant (`process.hrtime`, one clock for every process of the machine), then releases.
 */
function waiterProcess(port: number, key: string): Promise<bigint> {
  const code = `
    import { LockClient } from ${JSON.stringify(CORE)};
    const client = new LockClient({ restartQuarantine: false, keyPrefix: ${JSON.stringify(PREFIX)},
      nodes: [{ id: 'n0', host: '127.0.0.1', port: ${port} }] });
    const lock = await client.acquire(${JSON.stringify(key)}, { ttl: 5000, waitTimeout: 30000,
      retry: ${JSON.stringify(SLOW_POLLS)} });
    const at = process.hrtime.bigint();
    await lock.release();
    await client.close();
    process.stdout.write(String(at));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      if (code === 0) resolve(BigInt(out.trim()));
      else reject(new Error(`waiter process exited with ${String(code)}: ${err}`));
    });
  });
}

beforeAll(async () => {
  const started = await startNodes(4);
  node = started[0]!;
  quorumNodes = started.slice(1);
  admin = inspect(node.port);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  admin.disconnect();
  await stopAllNodes();
});

describe('waiters woken by a release', () => {
  it('grants a waiter in another process a few ms after the release, long before the lease would end', async () => {
    const holder = client();
    const lock = await holder.acquire('cross', { ttl: LEASE });
    const granted = waiterProcess(node.port, 'cross');
    await until(async () => Object.keys(await marks('cross')).length > 0, 'the waiter marked');
    // Its subscriber opened on that first contention: give it a moment to subscribe.
    await sleep(200);
    const releasedAt = process.hrtime.bigint();
    await lock.release();
    const gapMs = Number((await granted) - releasedAt) / 1e6;
    // Its next poll was 5 s away.
    expect(gapMs).toBeGreaterThan(0);
    expect(gapMs).toBeLessThan(POLL / 2);
    // The grant dropped the waiter's mark: nothing is left on the node.
    expect(await marks('cross')).toEqual({});
  });

  it('falls back to its poll when no release comes: a holder that never releases', async () => {
    const holder = client();
    const waiter = client();
    const lock = await holder.acquire('expires', { ttl: 600 });
    const lockedAt = performance.now();
    const next = await waiter.acquire('expires', {
      ttl: 5_000,
      waitTimeout: 10_000,
      retry: SLOW_POLLS,
    });
    const waited = performance.now() - lockedAt;
    // Granted once the lease ran out (the key expired: nothing was published), at the poll
    // the holder's remaining lease set, not at the 5 s backoff.
    expect(waited).toBeGreaterThanOrEqual(590);
    expect(waited).toBeLessThan(POLL / 2);
    expect(next.fence > lock.fence).toBe(true);
    await next.release();
  });

  it('loses no waiter when its subscriber connection drops', async () => {
    const holder = client();
    const waiter = client();
    const lock = await holder.acquire('dropped', { ttl: LEASE });
    const waiting = waiter.acquire('dropped', {
      ttl: 5_000,
      waitTimeout: LEASE,
      retry: SLOW_POLLS,
    });
    await until(async () => Object.keys(await marks('dropped')).length > 0, 'the waiter marked');
    // Its subscriber opened on that first contention: give it a moment to subscribe.
    await sleep(200);
    expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBeGreaterThan(0);
    await sleep(300);
    const releasedAt = performance.now();
    await lock.release();
    const next = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(POLL / 2);
    await next.release();
  });

  it('tries again when its subscriber was away as the release was announced', async () => {
    const holder = client();
    const waiter = client();
    const lock = await holder.acquire('missed', { ttl: LEASE });
    const waiting = waiter.acquire('missed', { ttl: 5_000, waitTimeout: LEASE, retry: SLOW_POLLS });
    await until(async () => Object.keys(await marks('missed')).length > 0, 'the waiter marked');
    await sleep(200);
    // The release is published while no subscriber listens: that message is lost.
    expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBeGreaterThan(0);
    const releasedAt = performance.now();
    await lock.release();
    const next = await waiting;
    // Not at its next poll (5 s): the subscriber's loss and return woke it.
    expect(performance.now() - releasedAt).toBeLessThan(POLL / 2);
    await next.release();
  });

  it('wakes a quorum waiter from any replica', async () => {
    const holder = client({ replicas: 3 }, quorumNodes);
    const waiter = client({ replicas: 3 }, quorumNodes);
    const lock = await holder.acquire('quorum', { ttl: LEASE });
    const next = waiter.acquire('quorum', { ttl: 5_000, waitTimeout: LEASE, retry: SLOW_POLLS });
    await sleep(400);
    const releasedAt = performance.now();
    await lock.release();
    const granted = await next;
    expect(performance.now() - releasedAt).toBeLessThan(POLL / 2);
    expect(granted.fence > lock.fence).toBe(true);
    await granted.release();
  });
});

describe('local lines', () => {
  it('lets one waiter per key ask Redis, and hands the key on at each release', async () => {
    const one = client();
    const fences: bigint[] = [];
    const before = one.metrics();
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const lock = await one.acquire('line', { ttl: 5_000, waitTimeout: 10_000 });
        fences.push(lock.fence);
        await new Promise((resolve) => setImmediate(resolve));
        await lock.release();
      }),
    );
    const after = one.metrics();
    expect(fences).toHaveLength(40);
    // Granted in turn, each above the last: no waiter found the key held in Redis.
    expect(fences.every((fence, i) => i === 0 || fence > fences[i - 1]!)).toBe(true);
    expect(after.contendedAttempts - before.contendedAttempts).toBe(0);
    expect(after.grants - before.grants).toBe(40);
  });

  it('passes the turn when the lock ahead is never released, once its validity has run out', async () => {
    const one = client();
    const forgotten = await one.acquire('never', { ttl: 400 });
    const startedAt = performance.now();
    // Behind it in this process's line: it asks Redis only when the turn passes.
    const next = await one.acquire('never', { ttl: 5_000, waitTimeout: 10_000, retry: SLOW_POLLS });
    const waited = performance.now() - startedAt;
    expect(waited).toBeGreaterThanOrEqual(forgotten.deadline - startedAt);
    expect(waited).toBeLessThan(POLL / 2);
    expect(next.fence > forgotten.fence).toBe(true);
    await next.release();
  });

  it('removes a waiter that aborts or times out, and leaves no mark behind', async () => {
    const holder = client();
    const waiters = client();
    const lock = await holder.acquire('gone', { ttl: LEASE });
    const head = waiters.acquire('gone', { ttl: 5_000, waitTimeout: 400 });
    const controller = new AbortController();
    const second = waiters.acquire('gone', { ttl: 5_000, signal: controller.signal });
    await until(async () => Object.keys(await marks('gone')).length > 0, 'the head marked');
    controller.abort();
    await expect(second).rejects.toBeInstanceOf(LockAbortedError);
    await expect(head).rejects.toBeInstanceOf(LockTimeoutError);
    await until(async () => Object.keys(await marks('gone')).length === 0, 'the mark is gone');
    // Neither blocks the line: the next acquire in the same process gets the key on release.
    const third = waiters.acquire('gone', { ttl: 5_000, waitTimeout: LEASE });
    await sleep(100);
    await lock.release();
    await (await third).release();
  });
});

describe('fairness', () => {
  it('starves no waiter: two processes share a hot key', async () => {
    const a = client();
    const b = client();
    const grants = new Map<string, number>();
    let total = 0;
    const worker = async (c: LockClient, name: string): Promise<void> => {
      while (total < 300) {
        const lock = await c.acquire('hot', { ttl: 2_000, waitTimeout: 10_000 });
        total++;
        grants.set(name, (grants.get(name) ?? 0) + 1);
        await sleep(1);
        await lock.release();
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => worker(i % 2 === 0 ? a : b, `w${i}`)));
    // Every waiter had turns, and neither process took the key from the other for long.
    expect(grants.size).toBe(12);
    const byClient = [0, 1].map((side) =>
      [...grants]
        .filter(([name]) => Number(name.slice(1)) % 2 === side)
        .reduce((s, [, n]) => s + n, 0),
    );
    expect(Math.min(...byClient)).toBeGreaterThan(total / 5);
  });

  it('with fair: true, serves waiters of two processes in the order they began to wait', async () => {
    const holder = client();
    const a = client({ fair: true });
    const b = client({ fair: true });
    const lock = await holder.acquire('line-up', { ttl: LEASE });
    const order: number[] = [];
    const waits = [a, b, a, b].map(async (c, i) => {
      await sleep(80 * i);
      const granted = await c.acquire('line-up', { ttl: 5_000, waitTimeout: LEASE });
      order.push(i);
      await sleep(20);
      await granted.release();
    });
    await sleep(80 * 4 + 100);
    await lock.release();
    await Promise.all(waits);
    expect(order).toEqual([0, 1, 2, 3]);
  });
});
