import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LockClient, NodePermissionError, type NodeErrorEvent } from '@shardlock/core';
import { makeSelfSignedCert, RedisNode, stopAllNodes } from '../harness/index.js';
import { LOCK_USER_RULE } from '../support/acl.js';

// The harness starts these nodes empty for this file, so no lock was granted on an earlier run
// of theirs: the restart quarantine is off here (core-membership.test.ts tests it).

afterAll(async () => {
  await stopAllNodes();
});

async function roundTrip(client: LockClient, key: string): Promise<void> {
  const lock = await client.acquire(key, { ttl: 2_000 });
  expect(lock.isValid()).toBe(true);
  expect(await client.tryAcquire(key)).toBeNull();
  expect(await lock.release()).toBe(true);
}

describe('authentication and TLS pass through to ioredis', () => {
  it('a user with exactly the documented ACL rule can do everything', async () => {
    const node = await RedisNode.start({
      args: ['--user', 'locker', 'on', '>rule-pw', ...LOCK_USER_RULE, '--user', 'default', 'off'],
    });
    const client = new LockClient({
      nodes: [{ id: 'rule', port: node.port }],
      redis: { username: 'locker', password: 'rule-pw' },
    });
    const errors: NodeErrorEvent[] = [];
    client.on('nodeError', (event) => errors.push(event));
    await client.ready();
    await roundTrip(client, 'rule-key');
    const fenced = await client.withLock('rule-work', async (_signal, lock) => {
      await lock.extend(3_000);
      return lock.fence;
    });
    expect(fenced).toBeGreaterThan(0n);
    const group = await client.acquireMany(['rule-a', 'rule-b']);
    expect(await group.release()).toBe(true);
    // A waiter's mark, its subscriber (SUBSCRIBE on the prefix's channel) and the release's
    // PUBLISH: woken long before its next poll (5 s).
    const background: unknown[] = [];
    client.on('backgroundError', (error) => background.push(error));
    const held = await client.acquire('rule-hot', { ttl: 20_000 });
    const other = new LockClient({
      nodes: [{ id: 'rule', port: node.port }],
      redis: { username: 'locker', password: 'rule-pw' },
    });
    other.on('backgroundError', (error) => background.push(error));
    const waiting = other.acquire('rule-hot', {
      waitTimeout: 20_000,
      retry: { delay: 5_000, maxDelay: 5_000, jitter: 0 },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const releasedAt = performance.now();
    await held.release();
    await (await waiting).release();
    expect(performance.now() - releasedAt).toBeLessThan(2_500);
    expect(background).toEqual([]);
    await other.close();
    expect(errors).toEqual([]);
    await client.close();
  });

  it('an ACL user with a password, given as client-wide redis options', async () => {
    const node = await RedisNode.start({ users: [{ name: 'locker', password: 's3cret-pw' }] });
    const client = new LockClient({
      restartQuarantine: false,
      nodes: [{ id: 'acl', port: node.port }],
      redis: { username: 'locker', password: 's3cret-pw' },
    });
    await roundTrip(client, 'acl-key');
    await client.close();
  });

  it('an ACL user in a redis:// URL', async () => {
    const node = await RedisNode.start({ users: [{ name: 'urluser', password: 'pw-in-url' }] });
    const client = new LockClient({
      restartQuarantine: false,
      nodes: [{ id: 'u', url: `redis://urluser:pw-in-url@127.0.0.1:${node.port}` }],
    });
    await roundTrip(client, 'url-key');
    await client.close();
  });

  it('a wrong password fails the node’s keys with NodePermissionError and reports the cause', async () => {
    const node = await RedisNode.start({ password: 'right' });
    const errors: NodeErrorEvent[] = [];
    const client = new LockClient({
      restartQuarantine: false,
      nodes: [{ id: 'p', port: node.port, redis: { password: 'wrong' } }],
    });
    client.on('nodeError', (event) => errors.push(event));
    const error = await client.acquire('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodePermissionError);
    expect((error as NodePermissionError).command).toBe('auth');
    await expect(client.ready()).rejects.toBe(error);
    expect(errors.some((e) => /WRONGPASS|invalid username-password/i.test(e.error.message))).toBe(
      true,
    );
    await client.close();
    const right = new LockClient({
      restartQuarantine: false,
      nodes: [{ id: 'p', port: node.port, redis: { password: 'right' } }],
    });
    await roundTrip(right, 'pw-key');
    await right.close();
  });

  it('TLS with a self-signed CA (Debian’s redis-server is built with TLS)', async () => {
    const tls = await makeSelfSignedCert();
    const node = await RedisNode.start({ tls });
    const client = new LockClient({
      restartQuarantine: false,
      nodes: [{ id: 't', url: `rediss://127.0.0.1:${node.port}` }],
      redis: { tls: { ca: readFileSync(tls.ca), servername: 'localhost' } },
    });
    await roundTrip(client, 'tls-key');
    await client.close();
  });
});
