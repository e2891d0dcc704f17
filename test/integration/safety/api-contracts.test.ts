import { describe, expect, it } from 'vitest';
import type { Lock } from '@shardlock/core';
import { until } from '../../support/redis.js';
import {
  codeOf,
  connected,
  describeError,
  events,
  keyWhere,
  lockKeys,
  scriptCalls,
  useCluster,
  type Cluster,
} from './helpers.js';

// What the README and the API docs promise and the code did not do: a plain lock hears of its
// node's death, acquireMany waits out a quarantine like acquire, and an aborted signal sends
// nothing and never resolves `null`. Review docs a, c and d.

const c: Cluster = useCluster();

describe('docs a: a killed node tells the holders of its locks at once', () => {
  it('a plain acquire()’s lock gets lockLost, turns invalid, and its extend() rejects ERR_LOCK_LOST', async () => {
    await c.start(2);
    const client = c.client({ maxTtl: 1_500, defaultTtl: 1_500 });
    const lost = events(client, 'lockLost');
    await connected(client);
    const key = keyWhere('killed', (k) => client.nodeFor(k) === 'n0');
    const lock = await client.acquire(key);
    await c.nodes[0]!.kill();
    await until(() => lost.length > 0, 2_000).catch(() => undefined);
    expect.soft(lost.map((e) => [e.key, e.reason])).toEqual([[key, 'node-lost']]);
    expect.soft(lock.isValid()).toBe(false);
    const error = await lock.extend().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(codeOf(error) ?? describeError(error)).toBe('ERR_LOCK_LOST');
  });
});

describe('docs c: acquireMany waits out a quarantine its waitTimeout reaches past', () => {
  it('succeeds once the dead node’s keys have failed over', async () => {
    await c.start(3);
    const client = c.client();
    const downs = events(client, 'nodeDown');
    await connected(client);
    const onDead = keyWhere('group-dead', (k) => client.nodeFor(k) === 'n1');
    const onLive = keyWhere('group-live', (k) => client.nodeFor(k) === 'n0');
    await c.nodes[1]!.kill();
    await until(() => downs.length === 1);
    // The quarantine is 305 ms; the wait may take 5 s.
    const group = await client
      .acquireMany([onDead, onLive], { waitTimeout: 5_000 })
      .catch((error: unknown) => describeError(error));
    expect(typeof group === 'string' ? group : group.keys).toEqual([onDead, onLive]);
    if (typeof group !== 'string') expect(group.get(onDead)!.nodeIds).not.toContain('n1');
  });
});

describe('docs d: tryAcquire and withLock with an aborted signal', () => {
  it('tryAcquire with an already-aborted signal rejects ERR_LOCK_ABORTED and sends nothing', async () => {
    await c.start(2);
    const client = c.client();
    await connected(client);
    const raws = c.nodes.map((node) => c.raw(node));
    await Promise.all(raws.map((r) => r.config('RESETSTAT')));
    const got = await client.tryAcquire('pre-aborted', { signal: AbortSignal.abort() }).then(
      (lock) => (lock === null ? 'null' : 'granted'),
      (error: unknown) => codeOf(error) ?? describeError(error),
    );
    expect.soft(got).toBe('ERR_LOCK_ABORTED');
    expect(await Promise.all(raws.map((r) => scriptCalls(r))), 'script calls per node').toEqual([
      0, 0,
    ]);
  });

  it('an abort while tryAcquire is in flight rejects ERR_LOCK_ABORTED, never null, and leaves no key', async () => {
    await c.start(2);
    const client = c.client();
    await connected(client);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) {
      const controller = new AbortController();
      // Queued for this tick's batch; the abort lands while it travels.
      const pending = client.tryAcquire(`abort-in-flight:${i}`, { signal: controller.signal });
      controller.abort();
      got.push(
        await pending.then(
          (lock: Lock | null) => (lock === null ? 'null' : 'granted'),
          (error: unknown) => codeOf(error) ?? describeError(error),
        ),
      );
    }
    expect.soft(got).toEqual(Array.from({ length: 10 }, () => 'ERR_LOCK_ABORTED'));
    const raws = c.nodes.map((node) => c.raw(node));
    const held = async (): Promise<string[]> =>
      (await Promise.all(raws.map((r) => lockKeys(r)))).flat();
    await until(async () => (await held()).length === 0, 1_000).catch(() => undefined);
    expect(await held()).toEqual([]);
  });

  it('withLock with an already-aborted signal rejects ERR_LOCK_ABORTED, never runs the work, sends nothing', async () => {
    await c.start(2);
    const client = c.client();
    await connected(client);
    const raws = c.nodes.map((node) => c.raw(node));
    await Promise.all(raws.map((r) => r.config('RESETSTAT')));
    let ran = false;
    const got = await client
      .withLock(
        'pre-aborted-work',
        () => {
          ran = true;
        },
        { signal: AbortSignal.abort() },
      )
      .then(
        () => 'resolved',
        (error: unknown) => codeOf(error) ?? describeError(error),
      );
    expect(got).toBe('ERR_LOCK_ABORTED');
    expect(ran).toBe(false);
    expect(await Promise.all(raws.map((r) => scriptCalls(r)))).toEqual([0, 0]);
  });
});
