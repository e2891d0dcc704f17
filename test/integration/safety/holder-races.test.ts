import { describe, expect, it } from 'vitest';
import type { Lock, LockClient } from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import { nodeSpecs } from '../../harness/index.js';
import { until } from '../../support/redis.js';
import {
  codeOf,
  connected,
  describeError,
  index,
  keyWhere,
  lockKey,
  useCluster,
  type Cluster,
} from './helpers.js';

// docs/safety.md hazard 11, races inside one holder: an extend in flight while the holder releases,
// or while a handoff moves the key, must not leave a lease on a node the release never
// reached. Leases here are 1.5 s, so a leaked one outlives the 500 ms the checks allow.
// Review defect 5, docs e.

const c: Cluster = useCluster();
const MAX_TTL = 1_500;

/** Where `lock`'s key is held in Redis, among the given node ids: id → token or null. */
async function holders(
  key: string,
  ids: readonly string[],
): Promise<Record<string, string | null>> {
  const entries = await Promise.all(
    ids.map(async (id) => [id, await c.raw(c.nodes[index(id)]!).get(lockKey(key))] as const),
  );
  return Object.fromEntries(entries);
}

/** Waits up to 500 ms for the key to be free on every given node, then says where it is held. */
async function heldAfterSettling(
  key: string,
  ids: readonly string[],
): Promise<Record<string, string | null>> {
  const free = async (): Promise<boolean> =>
    Object.values(await holders(key, ids)).every((token) => token === null);
  await until(free, 500).catch(() => undefined);
  return holders(key, ids);
}

/** A lock taken on n0–n2, then n3 added: its key moves to n3 and is in its handoff window. */
async function lockBeforeAdd(): Promise<{ client: LockClient; lock: Lock; oldOwner: string }> {
  await c.start(4);
  const specs = nodeSpecs(c.nodes);
  const client = c.client({ nodes: specs.slice(0, 3), maxTtl: MAX_TTL, defaultTtl: MAX_TTL });
  await connected(client);
  const all = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: client.options.vnodes });
  const key = keyWhere('race', (k) => all.owner(k) === 'n3');
  const lock = await client.acquire(key);
  const oldOwner = lock.nodeId;
  await client.addNode(specs[3]!);
  expect(client.nodeFor(key)).toBe('n3');
  return { client, lock, oldOwner };
}

describe('defect 5: release() while extend() is in flight during a handoff', () => {
  it('leaves the key held on neither the old nor the new owner', async () => {
    const { lock, oldOwner } = await lockBeforeAdd();
    // The extend also places the lease on the new owner; the release is sent meanwhile.
    const extending = lock.extend().then(
      () => 'extended',
      (error: unknown) => codeOf(error) ?? describeError(error),
    );
    expect(await lock.release()).toBe(true);
    expect(await extending).toMatch(/^(extended|ERR_LOCK_LOST)$/);
    expect(await heldAfterSettling(lock.key, [oldOwner, 'n3'])).toEqual({
      [oldOwner]: null,
      n3: null,
    });
  });

  it('an extend that fails on the held node leaves no lease on the added owner', async () => {
    const { lock, oldOwner } = await lockBeforeAdd();
    // The lease is gone where it was granted; the new owner would still take it.
    await c.raw(c.nodes[index(oldOwner)]!).del(lockKey(lock.key));
    const error = await lock.extend().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(codeOf(error)).toBe('ERR_LOCK_LOST');
    expect(await heldAfterSettling(lock.key, [oldOwner, 'n3'])).toEqual({
      [oldOwner]: null,
      n3: null,
    });
  });
});

describe('docs e: extend() after a concurrent release', () => {
  it('rejects with ERR_LOCK_LOST when the lock was released while the extend was in flight', async () => {
    await c.start(2);
    const client = c.client({ maxTtl: MAX_TTL, defaultTtl: MAX_TTL });
    await connected(client);
    const lock = await client.acquire('extend-release');
    const extending = lock.extend().then(
      () => 'resolved',
      (error: unknown) => codeOf(error) ?? describeError(error),
    );
    expect(await lock.release()).toBe(true);
    expect(await extending).toBe('ERR_LOCK_LOST');
    expect(lock.isValid()).toBe(false);
    expect(await heldAfterSettling(lock.key, [lock.nodeId])).toEqual({ [lock.nodeId]: null });
  });
});
