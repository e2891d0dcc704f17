import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockClient, LockTimeoutError, type Lock } from '@shardlock/core';
import { nodeSpecs, startNodes, stopAllNodes, type RedisNode } from '../harness/index.js';
import {
  describeViolation,
  findFenceRegressions,
  findViolations,
  type Grant,
} from '../support/grants.js';

// The harness starts these nodes empty for this file, so no lock was granted on an earlier run
// of theirs: the restart quarantine is off here (core-membership.test.ts tests it).

let nodes: RedisNode[];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  nodes = await startNodes(3);
});
afterAll(async () => {
  await stopAllNodes();
});

function record(grants: Grant[], lock: Lock, owner: string): Grant {
  const grant: Grant = {
    key: lock.key,
    token: lock.token,
    fence: lock.fence,
    grantedAt: performance.now(),
    believedUntil: lock.deadline,
    releasedAt: Number.POSITIVE_INFINITY,
    owner,
  };
  grants.push(grant);
  return grant;
}

describe('contention on hot keys', () => {
  it('never gives two clients overlapping leases, and fences only grow', async () => {
    const clients = Array.from(
      { length: 4 },
      () => new LockClient({ restartQuarantine: false, nodes: nodeSpecs(nodes), maxTtl: 5_000 }),
    );
    const hotKeys = ['hot:a', 'hot:b', 'hot:c', 'hot:d', 'hot:e'];
    const grants: Grant[] = [];
    let timeouts = 0;
    const deadline = performance.now() + 3_000;
    const worker = async (client: LockClient, name: string, seed: number): Promise<void> => {
      for (let i = seed; performance.now() < deadline && grants.length < 3_000; i++) {
        const key = hotKeys[i % hotKeys.length]!;
        try {
          const lock = await client.acquire(key, {
            ttl: 500,
            retry: { attempts: 50, delay: 2, maxDelay: 20, jitter: 5 },
          });
          const grant = record(grants, lock, name);
          if (i % 3 === 0) await sleep(1);
          grant.releasedAt = performance.now();
          await lock.release();
        } catch (error) {
          if (!(error instanceof LockTimeoutError)) throw error;
          timeouts++;
        }
      }
    };
    await Promise.all(
      clients.flatMap((client, c) =>
        Array.from({ length: 16 }, (_, w) => worker(client, `c${c}w${w}`, w)),
      ),
    );
    await Promise.all(clients.map((client) => client.close()));
    const violations = findViolations(grants);
    expect(violations.map(describeViolation)).toEqual([]);
    expect(findFenceRegressions(grants).map(describeViolation)).toEqual([]);
    expect(grants.length).toBeGreaterThan(100);
    expect(new Set(grants.map((g) => g.key)).size).toBe(hotKeys.length);
    expect(timeouts).toBeLessThan(grants.length);
  });
});

describe('acquireMany', () => {
  it('locks keys on different nodes all or nothing, without deadlock between overlapping groups', async () => {
    const client = new LockClient({
      restartQuarantine: false,
      nodes: nodeSpecs(nodes),
      maxTtl: 5_000,
    });
    const keys = ['acct:1', 'acct:2', 'acct:3', 'acct:4', 'acct:5', 'acct:6', 'acct:7', 'acct:8'];
    expect(new Set(keys.map((key) => client.nodeFor(key))).size).toBeGreaterThan(1);
    const grants: Grant[] = [];
    let completed = 0;
    const worker = async (w: number): Promise<void> => {
      for (let round = 0; round < 15; round++) {
        // Overlapping groups in opposite orders: the classic deadlock shape.
        const group = [
          keys[(w + round) % 8]!,
          keys[(w + round + 3) % 8]!,
          keys[(w + 2 * round + 5) % 8]!,
        ];
        const unique = [...new Set(w % 2 === 0 ? group : group.reverse())];
        const locks = await client.acquireMany(unique, {
          ttl: 2_000,
          retry: { attempts: 1_000, delay: 1, maxDelay: 20, jitter: 10 },
        });
        const recorded = locks.locks.map((lock) => record(grants, lock, `w${w}`));
        expect(locks.keys).toEqual(unique);
        await sleep(1);
        const now = performance.now();
        for (const grant of recorded) grant.releasedAt = now;
        expect(await locks.release()).toBe(true);
        completed++;
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
    expect(completed).toBe(12 * 15);
    expect(findViolations(grants).map(describeViolation)).toEqual([]);
    await client.close();
  });

  it('takes nothing when one key is held, and releases what it took', async () => {
    const client = new LockClient({
      restartQuarantine: false,
      nodes: nodeSpecs(nodes),
      maxTtl: 5_000,
    });
    const blocker = await client.acquire('pair:2', { ttl: 3_000 });
    await expect(
      client.acquireMany(['pair:1', 'pair:2', 'pair:3'], {
        ttl: 3_000,
        retry: { attempts: 2, delay: 5 },
      }),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    const free = await client.acquireMany(['pair:1', 'pair:3'], { retry: { attempts: 0 } });
    await free.release();
    await blocker.release();
    await client.close();
  });
});
