import { describe, expect, it } from 'vitest';
import type { Lock, LockClient } from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import { nodeSpecs } from '../../harness/index.js';
import { until } from '../../support/redis.js';
import {
  codeOf,
  connected,
  describeError,
  keyWhere,
  outcome,
  sleep,
  useCluster,
  type Cluster,
} from './helpers.js';

// docs/safety.md hazard 8, a client that arrives late: it has no history of the nodes it meets, so
// it must not route anything before a node's incarnation is known, and must count a server
// it cannot vouch for as possibly restarted (unless the cluster's own record says it never
// served). Review defects 1, 13 (quick start) and 14.

const c: Cluster = useCluster();

/** What a late client got: `null`, `granted on …`, or an error code. */
async function attempt(run: () => Promise<Lock | null>): Promise<string> {
  return run().then(
    (lock) => (lock === null ? 'null' : `granted on ${lock.nodeIds.join('+')}`),
    (error: unknown) => codeOf(error) ?? describeError(error),
  );
}

describe('defect 1: a client’s first commands skip the restart quarantine and the handoff', () => {
  // Long enough that A still holds the key after an empty restart on a loaded machine.
  const MAX_TTL = 2_000;
  const options = { maxTtl: MAX_TTL, defaultTtl: MAX_TTL, restartQuarantine: true };

  /** A holds `key` on n1's successor after n1 died; n1 is back, empty. */
  async function failedOverThenRestarted(): Promise<{ key: string; held: Lock }> {
    await c.start(3);
    const a = c.client(options);
    await connected(a);
    const key = keyWhere('late', (k) => a.nodeFor(k) === 'n1');
    await c.nodes[1]!.kill();
    // A waits out n1's quarantine; the key fails over to its successor.
    const held = await a.acquire(key, { waitTimeout: 5_000 });
    expect(held.nodeIds).not.toContain('n1');
    await c.nodes[1]!.restartEmpty();
    return { key, held };
  }

  const calls: [string, (b: LockClient, key: string) => Promise<Lock | null>][] = [
    ['tryAcquire', (b, key) => b.tryAcquire(key)],
    ['acquire (one attempt)', (b, key) => b.acquire(key, { retry: { attempts: 0 } })],
  ];

  it.each(calls)(
    'a client created after the restart does not grant the key A holds (%s)',
    async (_name, call) => {
      const { key, held } = await failedOverThenRestarted();
      // B is new: it never saw n1's old run_id, nor A's failover.
      const b = c.client(options);
      const got = await attempt(() => call(b, key));
      expect(held.isValid()).toBe(true);
      expect(got).toMatch(/^(null|ERR_NODE_QUARANTINED|ERR_LOCK_TIMEOUT)$/);
    },
  );
});

describe('defect 14: uptime_in_seconds counts second boundaries, not the server’s age', () => {
  it('a restarted server that already reports 1 s of uptime is still quarantined for a whole quarantine', async () => {
    const MAX_TTL = 1_500;
    const QUARANTINE = MAX_TTL + MAX_TTL * 0.01 + 2;
    const options = { maxTtl: MAX_TTL, defaultTtl: MAX_TTL, restartQuarantine: true };
    await c.start(2);
    const old = c.raw(c.nodes[0]!);
    // n0 must be old enough not to be quarantined by anyone: only n1 is under test.
    await until(async () => /uptime_in_seconds:([2-9]|\d\d)/.test(await old.info('server')), 4_000);
    const a = c.client(options);
    await connected(a);
    const key = keyWhere('age', (k) => a.nodeFor(k) === 'n1');
    await a.close();

    // Start the new server late in a wall-clock second, so that its uptime turns to 1 s when
    // it is only ~200 ms old.
    await sleep((1_700 - (Date.now() % 1_000)) % 1_000);
    await c.nodes[1]!.restartEmpty();
    const restartedAt = performance.now();
    const probe = c.raw(c.nodes[1]!);
    await until(async () => /uptime_in_seconds:1\r?\n/.test(await probe.info('server')), 3_000, 5);
    const reportedOneSecondAt = performance.now() - restartedAt;

    const b = c.client(options);
    await connected(b);
    const lock = await b.acquire(key, { waitTimeout: 5_000 });
    // When the grant's request left (a lock believes from its send time).
    const sentAt = lock.deadline - (lock.ttl - lock.ttl * 0.01 - 2);
    const grantedAfter = Math.round(sentAt - restartedAt);
    expect(
      grantedAfter,
      `granted ${grantedAfter} ms after the restart; its uptime said 1 s after ${Math.round(reportedOneSecondAt)} ms`,
    ).toBeGreaterThanOrEqual(QUARANTINE - 20);
  });
});

describe('defect 13: the README quick start on just-started servers', () => {
  it('a client with default options gets its locks at once on a brand-new cluster', async () => {
    const [a, b] = await c.start(2);
    const client = c.bare({
      nodes: [
        { id: 'a', host: '127.0.0.1', port: a!.port },
        { id: 'b', url: `redis://127.0.0.1:${b!.port}` },
      ],
    });
    let ran = false;
    await client.withLock(
      'order:42',
      (signal, lock) => {
        ran = !signal.aborted && lock.isValid();
      },
      { ttl: 5_000 },
    );
    expect(ran).toBe(true);
    const invoice = await outcome(
      client.acquire('invoice:7', { ttl: 2_000, waitTimeout: 1_000 }),
      5_000,
    );
    expect(invoice.kind === 'error' ? describeError(invoice.error) : invoice.kind).toBe('value');
    // And a key of each node, now that both have been met.
    for (const id of ['a', 'b']) {
      const key = keyWhere('quick', (k) => client.nodeFor(k) === id);
      const got = await outcome(client.acquire(key, { ttl: 2_000, waitTimeout: 1_000 }), 5_000);
      expect(got.kind === 'error' ? describeError(got.error) : got.kind, key).toBe('value');
    }
  });
});

describe('simulator finding: a change asked of a client that is still starting', () => {
  // Found by `pnpm sim --seed 11` (schedule 9,464; replayed in test/sim/sim-found.test.ts): a
  // client created while a node hung could not start until it answered; an addNode called
  // meanwhile waited for the start, and the start then routed keys on the list without the
  // added node, seconds after every other client had moved them there (docs/safety.md, late
  // clients). The rule: a change asked for before the start is applied before any route.
  it('a key moved by an addNode called before the start is routed to the added node', async () => {
    await c.start(4);
    const specs = nodeSpecs(c.nodes);
    const b = c.client({ nodes: specs.slice(0, 3) });
    const all = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: b.options.vnodes });
    const key = keyWhere('early', (k) => all.owner(k) === 'n3');
    const adding = b.addNode(specs[3]!);
    const lock = await b.tryAcquire(key);
    await adding;
    expect(lock?.nodeIds).toContain('n3');
  });
});
