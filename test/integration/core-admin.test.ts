import { describe, expect, it } from 'vitest';
import {
  fingerprintOf,
  InvalidArgumentError,
  LockAbortedError,
  LockClient,
  LockLostError,
  NodeUnavailableError,
  type LockListEntry,
  type LockListError,
  type HeldLockEntry,
} from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import {
  codeOf,
  connected,
  events,
  FAST,
  keyWhere,
  lockKey,
  scriptCalls,
  sleep,
  thrown,
  useCluster,
  type Cluster,
} from './safety/helpers.js';

// The operator's calls: inspect(), locks() and forceRelease(), against real redis-server
// processes (ACL and TLS in core-admin-security.test.ts; the `shardlock` command in
// cli-*.test.ts).

const c: Cluster = useCluster();
const NO_RETRY = { retry: { attempts: 0 } } as const;

async function started(options: Parameters<Cluster['client']>[0] = {}): Promise<LockClient> {
  const client = c.client(options);
  await connected(client);
  return client;
}

async function collect(iterator: AsyncIterable<LockListEntry>): Promise<LockListEntry[]> {
  const entries: LockListEntry[] = [];
  for await (const entry of iterator) entries.push(entry);
  return entries;
}

const held = (entries: readonly LockListEntry[]): HeldLockEntry[] =>
  entries.filter((e): e is HeldLockEntry => e.kind === 'lock');
const failed = (entries: readonly LockListEntry[]): LockListError[] =>
  entries.filter((e): e is LockListError => e.kind === 'error');

describe('inspect', () => {
  it('shows a free key on its owner, then its holder, lease and fence, never the token', async () => {
    await c.start(3);
    const client = await started({ maxTtl: 5_000 });
    const owner = client.nodeFor('order:1');
    const free = await client.inspect('order:1');
    expect(free).toMatchObject({
      key: 'order:1',
      held: false,
      fingerprint: undefined,
      ttl: undefined,
    });
    expect(free.nodes.map((n) => [n.nodeId, n.state, n.held])).toEqual([[owner, 'up', false]]);
    const lock = await client.acquire('order:1', { ttl: 4_000 });
    const seen = await client.inspect('order:1');
    expect(seen.held).toBe(true);
    expect(seen.fingerprint).toBe(fingerprintOf(lock.token));
    expect(seen.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(seen.ttl).toBeGreaterThan(3_000);
    expect(seen.ttl).toBeLessThanOrEqual(4_000);
    // The only grant on that node: its counter is this lock's fence.
    expect(seen.lastFence).toBe(lock.fence);
    expect(seen.nodes[0]).toMatchObject({ nodeId: owner, held: true, error: undefined });
    expect(seen.nodes[0]!.address).toBe(`127.0.0.1:${c.nodes[Number(owner.slice(1))]!.port}`);
    expect(
      JSON.stringify(seen, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    ).not.toContain(lock.token);
    expect(seen.replicas).toBe(1);
  });

  it('refuses a bad key before sending anything', async () => {
    await c.start(1);
    const client = await started();
    const raw = c.raw(c.nodes[0]!);
    await raw.config('RESETSTAT');
    for (const key of ['', 42, 'a'.repeat(2_000), '\uD800']) {
      await expect(client.inspect(key as string)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(await scriptCalls(raw)).toBe(0);
  });

  it('names the node and its cause when the key’s only node is down', async () => {
    await c.start(2);
    const client = await started(NO_RETRY);
    const key = keyWhere('k', (k) => client.nodeFor(k) === 'n1');
    await c.nodes[1]!.kill();
    const error = await client.inspect(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeUnavailableError);
    expect((error as NodeUnavailableError).nodeId).toBe('n1');
    expect((error as Error).message).toContain(`127.0.0.1:${c.nodes[1]!.port}`);
  });
});

describe('locks', () => {
  it('lists every held lock on every node, page by page, under the pattern only', async () => {
    await c.start(3);
    const client = await started({ maxTtl: 10_000 });
    const orders = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.acquire(`order:${i}`, { ttl: 9_000 })),
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.acquire(`user:${i}`)));
    const entries = await collect(client.locks({ match: 'order:*', count: 3 }));
    expect(failed(entries)).toEqual([]);
    const found = held(entries);
    expect(found.map((e) => e.key).sort()).toEqual(orders.map((l) => l.key).sort());
    for (const lock of orders) {
      const entry = found.find((e) => e.key === lock.key)!;
      expect(entry.nodeId).toBe(client.nodeFor(lock.key));
      expect(entry.fingerprint).toBe(fingerprintOf(lock.token));
      expect(entry.ttl).toBeGreaterThan(0);
      expect(entry.lastFence).toBeGreaterThanOrEqual(lock.fence);
    }
    expect(held(await collect(client.locks())).length).toBe(50);
  });

  it('matches its own key prefix literally, even one with glob characters', async () => {
    await c.start(1);
    const starred = await started({ keyPrefix: 'p*:' });
    const plain = await started({ keyPrefix: 'p1:' });
    await starred.acquire('a');
    await plain.acquire('b');
    expect(held(await collect(starred.locks())).map((e) => e.key)).toEqual(['a']);
    expect(held(await collect(plain.locks())).map((e) => e.key)).toEqual(['b']);
  });

  it('reports a node that fails during the listing and lists the others to the end', async () => {
    await c.start(3);
    const client = await started({ maxTtl: 10_000, ...NO_RETRY });
    const keys = Array.from({ length: 600 }, (_, i) => `job:${i}`);
    await Promise.all(keys.map((key) => client.acquire(key, { ttl: 9_000 })));
    const entries: LockListEntry[] = [];
    let killed = false;
    for await (const entry of client.locks({ count: 5 })) {
      entries.push(entry);
      if (!killed) {
        killed = true;
        await c.nodes[1]!.kill();
      }
    }
    const errors = failed(entries);
    expect(errors.map((e) => e.nodeId)).toEqual(['n1']);
    expect(errors[0]!.error).toBeInstanceOf(NodeUnavailableError);
    expect(errors[0]!.address).toBe(`127.0.0.1:${c.nodes[1]!.port}`);
    const listed = new Set(held(entries).map((e) => e.key));
    const elsewhere = keys.filter((key) => client.nodeFor(key) !== 'n1');
    expect(elsewhere.length).toBeGreaterThan(300);
    for (const key of elsewhere) expect(listed.has(key)).toBe(true);
    // The failed node's pages stop: fewer of its keys than it held, and none after the error.
    const onN1 = keys.length - elsewhere.length;
    expect(held(entries).filter((e) => e.nodeId === 'n1').length).toBeLessThan(onN1);
  });

  it('refuses bad options at the call, and stops when its signal aborts', async () => {
    await c.start(1);
    const client = await started();
    const raw = c.raw(c.nodes[0]!);
    await raw.config('RESETSTAT');
    for (const options of [
      { count: 0 },
      { count: 1.5 },
      { match: '' },
      { page: 1 },
      { signal: 'x' },
    ]) {
      expect(thrown(() => client.locks(options as never))).toBeInstanceOf(InvalidArgumentError);
    }
    expect(await scriptCalls(raw)).toBe(0);
    for (let i = 0; i < 30; i++) await client.acquire(`s:${i}`);
    const controller = new AbortController();
    const seen: LockListEntry[] = [];
    const error = await (async () => {
      for await (const entry of client.locks({ count: 2, signal: controller.signal })) {
        seen.push(entry);
        controller.abort(new Error('enough'));
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAbortedError);
    expect((error as LockAbortedError).cause).toEqual(new Error('enough'));
    expect(seen).toHaveLength(1);
  });
});

describe('forceRelease', () => {
  it('deletes the lease on its owner, tells listeners, and the holder’s next extend is refused', async () => {
    await c.start(3);
    const holder = await started({ maxTtl: 10_000 });
    const admin = await started({ maxTtl: 10_000 });
    const lock = await holder.acquire('stuck', { ttl: 9_000 });
    const lost = events(holder, 'lockLost');
    const told = events(admin, 'forceRelease');
    const result = await admin.forceRelease('stuck');
    const owner = holder.nodeFor('stuck');
    expect(result).toMatchObject({ key: 'stuck', released: true });
    expect(result.nodes).toEqual([
      {
        nodeId: owner,
        address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as unknown,
        outcome: 'deleted',
        fingerprint: fingerprintOf(lock.token),
        error: undefined,
      },
    ]);
    expect(told).toEqual([
      { key: 'stuck', nodeIds: [owner], fingerprints: [fingerprintOf(lock.token)] },
    ]);
    expect((await admin.inspect('stuck')).held).toBe(false);
    await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(lost.map((e) => e.reason)).toEqual(['not-owner']);
    // The next holder's fence is above the old one's: the resource can refuse the old holder.
    const next = await admin.acquire('stuck');
    expect(next.fence).toBeGreaterThan(lock.fence);
    expect((await admin.forceRelease('nobody')).released).toBe(false);
  });

  it('with a fingerprint, deletes only that holder’s lease', async () => {
    await c.start(2);
    const client = await started({ maxTtl: 10_000 });
    const lock = await client.acquire('fp', { ttl: 9_000 });
    const other = fingerprintOf('another token');
    const kept = await client.forceRelease('fp', { fingerprint: other });
    expect(kept.released).toBe(false);
    expect(kept.nodes.map((n) => [n.outcome, n.fingerprint])).toEqual([
      ['kept', fingerprintOf(lock.token)],
    ]);
    await lock.extend();
    expect(lock.isValid()).toBe(true);
    const gone = await client.forceRelease('fp', {
      fingerprint: fingerprintOf(lock.token).toUpperCase(),
    });
    expect(gone.nodes.map((n) => n.outcome)).toEqual(['deleted']);
    await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
  });

  it('refuses a bad key, fingerprint or option before sending anything', async () => {
    await c.start(1);
    const client = await started();
    const raw = c.raw(c.nodes[0]!);
    await raw.config('RESETSTAT');
    const bad = [
      client.forceRelease(''),
      client.forceRelease('k', { fingerprint: 'xyz' }),
      client.forceRelease('k', { fingerprint: '0123456789' }),
      client.forceRelease('k', { fingerprint: 12345678 as never }),
      client.forceRelease('k', { token: 'x' } as never),
    ];
    for (const call of bad) await expect(call).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await scriptCalls(raw)).toBe(0);
    expect(await raw.exists(lockKey('k'))).toBe(0);
  });

  it('aborts withLock’s work once its auto-extend meets the deleted lease', async () => {
    await c.start(2);
    const holder = await started();
    const admin = await started();
    const reason = await holder.withLock(
      'auto',
      async (signal) => {
        await admin.forceRelease('auto');
        const start = performance.now();
        while (!signal.aborted && performance.now() - start < 2_000) await sleep(10);
        return signal.reason as unknown;
      },
      { ttl: FAST.maxTtl },
    );
    expect(codeOf(reason)).toBe('ERR_LOCK_LOST');
  });
});

describe('quorum mode', () => {
  const ids = ['n0', 'n1', 'n2', 'n3', 'n4'];
  const replicasOf = (key: string): string[] => new HashRing(ids, { vnodes: 4096 }).owners(key, 3);

  it('inspect asks the key’s three replicas; forceRelease deletes the majority’s lease', async () => {
    await c.start(5);
    const holder = await started({ replicas: 3, maxTtl: 10_000 });
    const admin = await started({ replicas: 3, maxTtl: 10_000 });
    const lock = await holder.acquire('q', { ttl: 9_000 });
    const seen = await admin.inspect('q');
    const replicas = replicasOf('q');
    expect(seen.replicas).toBe(3);
    expect(seen.nodes.map((n) => n.nodeId)).toEqual(replicas);
    // A grant asks the first majority of the replicas.
    expect(seen.nodes.map((n) => n.held)).toEqual([true, true, false]);
    expect(seen).toMatchObject({ held: true, fingerprint: fingerprintOf(lock.token) });
    expect(seen.ttl).toBeGreaterThan(8_000);
    expect(seen.lastFence).toBeGreaterThanOrEqual(lock.fence);
    const result = await admin.forceRelease('q', { fingerprint: seen.fingerprint! });
    expect(result.nodes.map((n) => n.outcome)).toEqual(['deleted', 'deleted', 'absent']);
    expect((await admin.inspect('q')).held).toBe(false);
    await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
  });

  it('inspect sees a lock on a majority while one replica is down, and reports that one', async () => {
    await c.start(5);
    const client = await started({ replicas: 3, maxTtl: 10_000, ...NO_RETRY });
    const key = 'down-replica';
    const lock = await client.acquire(key, { ttl: 9_000 });
    const [first, second, third] = replicasOf(key) as [string, string, string];
    await c.nodes[Number(third.slice(1))]!.kill();
    const seen = await client.inspect(key);
    expect(seen.held).toBe(true);
    expect(seen.fingerprint).toBe(fingerprintOf(lock.token));
    const down = seen.nodes.find((n) => n.nodeId === third)!;
    expect(down.error).toBeInstanceOf(NodeUnavailableError);
    expect(seen.nodes.filter((n) => n.held).map((n) => n.nodeId)).toEqual([first, second]);
    // One replica of a majority is no lock: delete one behind the client's back.
    await c.raw(c.nodes[Number(first.slice(1))]!).del(lockKey(key));
    expect((await client.inspect(key)).held).toBe(false);
  });
});
