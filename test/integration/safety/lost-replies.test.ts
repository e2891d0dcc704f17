import { describe, expect, it } from 'vitest';
import type { Lock, LockClient } from '@shardlock/core';
import { LinkProxy, type RedisNode } from '../../harness/index.js';
import { until } from '../../support/redis.js';
import {
  codeOf,
  connected,
  describeError,
  events,
  keyWhere,
  lockKey,
  lockKeys,
  outcome,
  sleep,
  useCluster,
  type Cluster,
} from './helpers.js';

// docs/safety.md hazard 10, lost replies: a command that timed out on the client may still run on
// the server later; a late grant nobody believes must not block its key for a whole TTL.
// Also one op that fails on the server inside a batch, and waits that must not outlast their
// own bounds while a command is in flight. Review defects 4 and 9, docs b.

const c: Cluster = useCluster();

/** A client with 5 s leases (so a leaked grant outlives the checks by far) over 2 nodes. */
async function longLeases(options: Parameters<Cluster['client']>[0] = {}): Promise<LockClient> {
  await c.start(2);
  const client = c.client({ maxTtl: 5_000, defaultTtl: 5_000, ...options });
  await connected(client);
  // Load the script on n0, so a later call is one EVALSHA that sits in the paused socket.
  await (await client.acquire(keyWhere('warm', (k) => client.nodeFor(k) === 'n0'))).release();
  return client;
}

/** Pauses `node` for `ms`, then resumes it; resolves at the resume. */
async function pauseFor(node: RedisNode, ms: number): Promise<void> {
  node.pause();
  try {
    await sleep(ms);
  } finally {
    node.resume();
  }
}

describe('defect 4: a grant that runs after a command timeout is left held for its whole TTL', () => {
  it('acquire: the late grant is released soon after the node answers again', async () => {
    const client = await longLeases();
    const key = keyWhere('late-grant', (k) => client.nodeFor(k) === 'n0');
    const probe = c.raw(c.nodes[0]!);

    const attempt = outcome(client.acquire(key, { ttl: 5_000 }), 5_000);
    await pauseFor(c.nodes[0]!, 250);
    const got = await attempt;
    expect(got.kind === 'error' ? codeOf(got.error) : got.kind).toBe('ERR_NODE_UNAVAILABLE');

    await until(async () => (await probe.exists(lockKey(key))) === 0, 1_000).catch(() => undefined);
    expect(await probe.pttl(lockKey(key)), 'PTTL of the late grant 1 s after the resume').toBe(-2);
  });

  it('a node that now refuses the client (its eviction policy changed) still gets the late grant released', async () => {
    // Found by the simulator's evict fault: the releases owed for lost replies waited for
    // the node to be usable again, which a refused node never is for this client, while
    // other clients may still use it.
    const client = await longLeases();
    const key = keyWhere('late-refused', (k) => client.nodeFor(k) === 'n0');
    const probe = c.raw(c.nodes[0]!);
    await probe.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const errors = events(client, 'nodeError');

    const attempt = outcome(client.acquire(key, { ttl: 5_000 }), 5_000);
    // Longer than the detection lag: the client meets n0 again, and refuses it.
    await pauseFor(c.nodes[0]!, 400);
    const got = await attempt;
    expect(got.kind === 'error' ? codeOf(got.error) : got.kind).toBe('ERR_NODE_UNAVAILABLE');
    await until(() => errors.some((e) => codeOf(e.error) === 'ERR_EVICTION_POLICY'), 2_000);

    await until(async () => (await probe.exists(lockKey(key))) === 0, 1_000).catch(() => undefined);
    expect(await probe.pttl(lockKey(key)), 'PTTL of the late grant 1 s after the refusal').toBe(-2);
  });

  it('acquireMany: nothing stays locked after it throws', async () => {
    const client = await longLeases();
    const onPaused = [0, 1, 2].map((i) => keyWhere(`many-${i}`, (k) => client.nodeFor(k) === 'n0'));
    const elsewhere = keyWhere('many-other', (k) => client.nodeFor(k) === 'n1');
    const probes = [c.raw(c.nodes[0]!), c.raw(c.nodes[1]!)];

    const attempt = outcome(client.acquireMany([...onPaused, elsewhere], { ttl: 5_000 }), 5_000);
    await pauseFor(c.nodes[0]!, 250);
    const got = await attempt;
    expect(got.kind === 'error' ? codeOf(got.error) : got.kind).toBe('ERR_NODE_UNAVAILABLE');

    const held = async (): Promise<string[]> =>
      (await Promise.all(probes.map((p) => lockKeys(p)))).flat();
    await until(async () => (await held()).length === 0, 1_000).catch(() => undefined);
    expect(await held(), 'lock keys held 1 s after the resume').toEqual([]);
  });
});

describe('an extend whose reply was lost renews nothing past the lease the holder had', () => {
  // Found by the simulator (`pnpm sim --seed 715`): an extend that sat in a paused node ran
  // when the node resumed, after its holder had taken the lock as lost; nothing released it,
  // so the key stayed held a whole TTL past the resume.
  const LEASE = 2_000;

  /** Gone from `key`'s node within 600 ms of `lock`'s deadline, or the PTTL left. */
  async function expectGoneAfter(lock: Lock, key: string): Promise<void> {
    const probe = c.raw(c.nodes[0]!);
    const bound = lock.deadline + 600 - performance.now();
    await until(async () => (await probe.exists(lockKey(key))) === 0, bound).catch(() => undefined);
    expect(await probe.pttl(lockKey(key)), "PTTL 600 ms past the lock's deadline").toBe(-2);
  }

  /**
   * A lock on n0 whose extend, `after` ms into the lease, sits in n0 paused for 250 ms; a high
   * failure threshold keeps n0 from being marked down, so the lock stays held.
   */
  async function extendThatTimedOut(name: string, after: number) {
    const client = await longLeases({ failureThreshold: 50 });
    const key = keyWhere(name, (k) => client.nodeFor(k) === 'n0');
    const lock = await client.acquire(key, { ttl: LEASE });
    const oldDeadline = lock.deadline;
    await sleep(after);
    const extended = outcome(lock.extend(), 5_000);
    await pauseFor(c.nodes[0]!, 250);
    return { key, lock, oldDeadline, got: await extended };
  }

  it('a lock lost while its extend sat in a paused node: the late renewal ends at the old deadline', async () => {
    const client = await longLeases();
    const key = keyWhere('late-extend-lost', (k) => client.nodeFor(k) === 'n0');
    const lock = await client.acquire(key, { ttl: LEASE });
    const lost = events(client, 'lockLost');
    c.nodes[0]!.pause();
    let extended;
    try {
      extended = await outcome(lock.extend(), 5_000);
      await until(() => lost.length > 0, 2_000);
      // Resumed shortly before the deadline: the late extend renews the key from then.
      await sleep(Math.max(0, lock.deadline - 300 - performance.now()));
    } finally {
      c.nodes[0]!.resume();
    }
    expect(extended.kind).toBe('error');
    expect(lost.map((e) => e.reason)).toEqual(['node-lost']);
    await expectGoneAfter(lock, key);
  });

  it('a lock whose extend timed out and that its holder lets run out: released at its deadline', async () => {
    const { key, lock, got } = await extendThatTimedOut('late-extend-held', 1_200);
    expect(got.kind === 'error' ? codeOf(got.error) : got.kind).toBe('ERR_NODE_UNAVAILABLE');
    expect(lock.isValid()).toBe(true);
    // The late extend ran at the resume: left alone, the key stays held ~2 s from then.
    await expectGoneAfter(lock, key);
  });

  it('a lock renewed after its extend timed out keeps its lease past the old deadline', async () => {
    const { key, lock, oldDeadline, got } = await extendThatTimedOut('late-extend-renewed', 1_000);
    expect(got.kind).toBe('error');
    await until(async () => (await outcome(lock.extend(), 1_000)).kind === 'value', 2_000);

    await sleep(Math.max(0, oldDeadline + 300 - performance.now()));
    expect(lock.isValid()).toBe(true);
    expect(await c.raw(c.nodes[0]!).get(lockKey(key))).toContain(lock.token);
    expect(await lock.release()).toBe(true);
  });
});

describe('simulator finding: ops queued behind a batch whose reply is lost', () => {
  it('an extend still queued when its node is marked down is never sent', async () => {
    // Found by `pnpm sim --replicas 3 --focus quorum-lost-replies --seed 926`: a cut held a
    // node's replies; an extend queued behind the batch in flight was sent when that batch
    // timed out, 200 ms after the node was marked down and its holder had released the lock
    // (the release owed to the node until it answers again), and renewed the key there.
    const [node] = await c.start(1);
    const proxy = await LinkProxy.start({ port: node!.port });
    try {
      const client = c.client({
        nodes: [{ id: 'n0', port: proxy.port }],
        maxTtl: 5_000,
        defaultTtl: 5_000,
        healthCheckInterval: 50,
        failureThreshold: 1,
        commandTimeout: 300,
      });
      await connected(client);
      const held = await client.acquire('queued-held', { ttl: 5_000 });
      const queued = await client.acquire('queued-lease', { ttl: 1_000 });
      const down = events(client, 'nodeDown');
      proxy.set('down', 'blackhole');
      // A PING is out by now: n0 is marked down 300 ms after it, before this batch times out.
      await sleep(100);
      const inFlight = outcome(held.extend(), 5_000);
      await sleep(5);
      const behind = outcome(queued.extend(), 5_000);
      await until(() => down.length > 0, 2_000);
      expect((await behind).kind).toBe('error');
      await sleep(Math.max(0, queued.deadline + 150 - performance.now()));
      const probe = c.raw(node!);
      expect(await probe.pttl(lockKey('queued-lease')), 'PTTL 150 ms past its deadline').toBe(-2);
      expect((await inFlight).kind).toBe('error');
    } finally {
      proxy.heal();
      await proxy.close();
    }
  });
});

describe('defect 9: one op that errors inside the batch script', () => {
  it('fails only that op: the other acquires of the batch are granted and nothing leaks', async () => {
    await c.start(2);
    const client = c.client({ maxTtl: 1_500, defaultTtl: 1_500 });
    await connected(client);
    const owner = client.nodeFor('bad');
    const probe = c.raw(c.nodes[Number(owner.slice(1))]!);
    // Someone else's data under the lock's Redis key: GET on it fails with WRONGTYPE.
    await probe.hset(lockKey('bad'), 'field', 'value');
    const good = [0, 1, 2].map((i) => keyWhere(`good-${i}`, (k) => client.nodeFor(k) === owner));
    const keys = [good[0]!, good[1]!, 'bad', good[2]!];

    // Started in one tick: one batch on the owner.
    const results = await Promise.allSettled(
      keys.map((key) => client.acquire(key, { retry: { attempts: 0 } })),
    );
    const summary = await Promise.all(
      results.map(async (result, i) => {
        const key = keys[i]!;
        const raw = key === 'bad' ? 'hash' : await probe.get(lockKey(key));
        if (result.status === 'fulfilled') return `granted, ${raw === null ? 'free' : 'held'}`;
        const code = codeOf(result.reason) ?? describeError(result.reason);
        return `${code}, ${raw === null ? 'free' : raw === 'hash' ? 'hash' : 'held without a lock'}`;
      }),
    );
    expect(summary).toEqual([
      'granted, held',
      'granted, held',
      'ERR_COMMAND_FAILED, hash',
      'granted, held',
    ]);
    for (const result of results) if (result.status === 'fulfilled') await result.value.release();
    expect(await lockKeys(probe)).toEqual([lockKey('bad')]);
  });
});

describe('docs b: waitTimeout and signal bound an attempt already in flight', () => {
  it('waitTimeout 100 rejects with ERR_LOCK_TIMEOUT well before a 2 s commandTimeout', async () => {
    const client = await longLeases({ commandTimeout: 2_000 });
    const key = keyWhere('in-flight', (k) => client.nodeFor(k) === 'n0');
    c.nodes[0]!.pause();
    try {
      const started = performance.now();
      const got = await outcome(client.acquire(key, { waitTimeout: 100 }), 5_000);
      const took = Math.round(performance.now() - started);
      const code = got.kind === 'error' ? codeOf(got.error) : got.kind;
      expect(`${String(code)} after ${took} ms`).toMatch(/^ERR_LOCK_TIMEOUT after \d+ ms$/);
      expect(took).toBeLessThan(1_000);
    } finally {
      c.nodes[0]!.resume();
    }
  });

  it('an AbortSignal aborted 100 ms in rejects with ERR_LOCK_ABORTED well before 2 s', async () => {
    const client = await longLeases({ commandTimeout: 2_000 });
    const key = keyWhere('in-flight', (k) => client.nodeFor(k) === 'n0');
    c.nodes[0]!.pause();
    try {
      const started = performance.now();
      const got = await outcome(client.acquire(key, { signal: AbortSignal.timeout(100) }), 5_000);
      const took = Math.round(performance.now() - started);
      const code = got.kind === 'error' ? codeOf(got.error) : got.kind;
      expect(`${String(code)} after ${took} ms`).toMatch(/^ERR_LOCK_ABORTED after \d+ ms$/);
      expect(took).toBeLessThan(1_000);
    } finally {
      c.nodes[0]!.resume();
    }
  });
});
