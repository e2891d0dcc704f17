import { describe, expect, it } from 'vitest';
import type { Lock, LockClient, NodeSpec } from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import { LinkProxy, nodeSpecs } from '../../harness/index.js';
import { until } from '../../support/redis.js';
import {
  FAST,
  codeOf,
  connected,
  describeError,
  events,
  keyWhere,
  outcome,
  ready,
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

  it('a second client takes each key on its owner alone: the first recorded the servers as brand-new', async () => {
    // The cluster's record lists both nodes by now, and the servers are young: only the
    // incarnations the first client recorded (`n`, met brand-new) tell this client that no
    // lease of an earlier run can exist, so no key needs its successor too.
    const [a, b] = await c.start(2);
    const nodes = [
      { id: 'a', host: '127.0.0.1', port: a!.port },
      { id: 'b', host: '127.0.0.1', port: b!.port },
    ];
    const first = c.bare({ nodes });
    await ready(first);
    for (const node of [a!, b!]) {
      const record = c.raw(node);
      await until(
        async () => ((await record.hget('shardlock:cluster', 'inc')) ?? '').endsWith(':n'),
        2_000,
      );
    }
    const second = c.bare({ nodes });
    await ready(second);
    for (const id of ['a', 'b']) {
      const key = keyWhere('brand-new', (k) => second.nodeFor(k) === id);
      const lock = await second.acquire(key, { ttl: 2_000, waitTimeout: 1_000 });
      expect(lock.nodeIds, key).toEqual([id]);
    }
  });
});

/** Four nodes; a client `b` not started yet, with n0–n2; a key that n3 (`added`) would own. */
async function startingWithoutN3(
  prefix: string,
): Promise<{ b: LockClient; added: NodeSpec; key: string }> {
  await c.start(4);
  const specs = nodeSpecs(c.nodes);
  const b = c.client({ nodes: specs.slice(0, 3) });
  const all = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: b.options.vnodes });
  return { b, added: specs[3]!, key: keyWhere(prefix, (k) => all.owner(k) === 'n3') };
}

describe('simulator finding: a change asked of a client that is still starting', () => {
  // Found by `pnpm sim --seed 11` (schedule 9,464; replayed in test/sim/sim-found.test.ts): a
  // client created while a node hung could not start until it answered; an addNode called
  // meanwhile waited for the start, and the start then routed keys on the list without the
  // added node, seconds after every other client had moved them there (docs/safety.md, late
  // clients). The rule: a change asked for before the start is applied before any route.
  it('a key moved by an addNode called before the start is routed to the added node', async () => {
    const { b, added, key } = await startingWithoutN3('early');
    const adding = b.addNode(added);
    const lock = await b.tryAcquire(key);
    await adding;
    expect(lock?.nodeIds).toContain('n3');
  });

  it('also for a call made before that addNode, while both waited for the start', async () => {
    // Found by `pnpm sim` once a change could come while a process was starting: a call
    // already waiting for the first contacts routed as soon as they were in, on the list
    // without the node.
    const { b, added, key } = await startingWithoutN3('early-before');
    const locking = b.tryAcquire(key);
    const adding = b.addNode(added);
    const lock = await locking;
    await adding;
    expect(lock?.nodeIds).toContain('n3');
  });

  it('also for a call made after the start, while that addNode is still joining the node', async () => {
    const { b, added, key } = await startingWithoutN3('early-after');
    const adding = b.addNode(added);
    await ready(b);
    const lock = await b.tryAcquire(key);
    await adding;
    expect(lock?.nodeIds).toContain('n3');
  });
});

/**
 * `a` adds `spec` while n0 hangs (no listing of it reaches n0), then meets n0 again, which is
 * when it writes what it knows into n0's record.
 */
async function addWhileN0Hangs(a: LockClient, spec: NodeSpec): Promise<void> {
  await connected(a);
  const downs = events(a, 'nodeDown');
  const ups = events(a, 'nodeUp');
  c.nodes[0]!.pause();
  await until(() => downs.some((e) => e.nodeId === 'n0'), 5_000);
  await a.addNode(spec);
  c.nodes[0]!.resume();
  await until(() => ups.some((e) => e.nodeId === 'n0'), 5_000);
}

describe('simulator finding: a node that missed an add gets the new member as a founding one', () => {
  // Found by `pnpm sim --seed 17` (schedule 2,734; replayed in test/sim/sim-found.test.ts):
  // n0 hung while n3 was added, so no listing reached it; when a client met n0 again it
  // wrote its members where absent "since the founding", n3 included. A client started
  // meanwhile with the list of before (told to add n3) read that record, took n3 for a
  // long-standing member missing from its list and refused to start (docs/safety.md, late
  // clients).
  it('a member added less than a window ago is never recorded as a founding member', async () => {
    await c.start(4);
    const specs = nodeSpecs(c.nodes);
    const a = c.client({ nodes: specs.slice(0, 3) });
    await addWhileN0Hangs(a, specs[3]!);
    const record = c.raw(c.nodes[0]!);
    await until(async () => (await record.hget('shardlock:cluster', 'inc')) !== null, 2_000);
    await sleep(100);
    // Founding members are recorded `weight:s:0`; n3 was added a moment ago.
    expect(await record.hget('shardlock:cluster', 'm:n3')).not.toBe('1:s:0');
    expect(await c.raw(c.nodes[1]!).hget('shardlock:cluster', 'm:n3')).toMatch(/^1:s:[1-9]\d*$/);
  });
});

describe('simulator finding: a node that missed an add, left as the only record of the cluster', () => {
  // Found by `pnpm sim --seed 731` (schedule 6,667; replayed in test/sim/sim-found.test.ts):
  // n1 was added while n0 hung, so no listing of n1 reached n0, and the clients that met n0
  // again left n1 out of its record (added too recently to be written as founding). n1 then
  // restarted empty: a client started now read no record that lists n1, took the young n1
  // for brand-new, and granted a key there that a holder of n1's earlier run believed.
  it('a client started after the added node restarted empty quarantines it', async () => {
    await c.start(2);
    const specs = nodeSpecs(c.nodes);
    const options = { restartQuarantine: true };
    const a = c.client({ ...options, nodes: specs.slice(0, 1) });
    await addWhileN0Hangs(a, specs[1]!);
    await sleep(100);
    const key = keyWhere('missed-add', (k) => a.nodeFor(k) === 'n1');
    // n1 has served (this grant): a holder of its run would be told, not stopped.
    await (await a.acquire(key, { ttl: 300 })).release();

    await c.nodes[1]!.restartEmpty();
    const b = c.client({ ...options, nodes: specs });
    await ready(b);
    expect(await attempt(() => b.acquire(key, { retry: { attempts: 0 } }))).toBe(
      'ERR_NODE_QUARANTINED',
    );
  });
});

describe('simulator finding: a removal asked of a client that is still starting', () => {
  // Found by `pnpm sim --seed 18` (schedule 5,061): a client whose start waited for a hung
  // node applied a removeNode at once; its start then found the removed node serving in
  // every record but missing from its list, and refused to start (SettingsMismatchError).
  it('starts with the list it was created with, then applies the removal', async () => {
    await c.start(3);
    const a = c.client();
    await connected(a);
    c.nodes[1]!.pause();
    const b = c.client();
    const removing = b.removeNode('n0');
    await sleep(300);
    c.nodes[1]!.resume();
    const started = await outcome(ready(b), 5_000);
    expect(started.kind === 'error' ? describeError(started.error) : started.kind).toBe('value');
    expect(await outcome(removing, 5_000)).toEqual({ kind: 'value', value: undefined });
    expect(b.stats().find((s) => s.id === 'n0')?.share ?? 0).toBe(0);
  });

  it('starts although a record it reads last already shows the removal it was asked for', async () => {
    // Found next by the simulator (sim-b, once the world reported refused changes): the
    // start held the tombstone another client wrote against this client's list.
    await c.start(3);
    const a = c.client();
    await connected(a);
    c.nodes[2]!.pause();
    const b = c.client();
    // A removes n1 while n2 hangs: its tombstone waits in n2's socket, ahead of B's hello.
    await a.removeNode('n1');
    const removing = b.removeNode('n1');
    await sleep(300);
    c.nodes[2]!.resume();
    const started = await outcome(ready(b), 5_000);
    expect(started.kind === 'error' ? describeError(started.error) : started.kind).toBe('value');
    expect(await outcome(removing, 5_000)).toEqual({ kind: 'value', value: undefined });
  });
});

describe('simulator finding: a node that hung through a removal', () => {
  // Found by `pnpm sim --seed 815` (schedule 25,221): n2 hung while the operator removed n1,
  // so no tombstone reached it, and the clients that met n2 again only added what was
  // missing. Its record went on saying n1 serves; a client started later with the current
  // list, reading only n2's record (the other node hung), took n1 for a long-standing member
  // missing from its list and refused to start, and so every change asked of it.
  /** A removes n1 while n2 hangs, long enough for A to see n2 down; n2 still hangs after. */
  async function removeN1WhileN2Hangs(): Promise<{ a: LockClient; specs: NodeSpec[] }> {
    await c.start(3);
    const specs = nodeSpecs(c.nodes);
    const a = c.client();
    await connected(a);
    const down = events(a, 'nodeDown');
    c.nodes[2]!.pause();
    await until(() => down.some((e) => e.nodeId === 'n2'), 5_000);
    await a.removeNode('n1');
    return { a, specs };
  }

  it('a client that met the node again writes the removal there', async () => {
    const { a, specs } = await removeN1WhileN2Hangs();
    const up = events(a, 'nodeUp');
    c.nodes[2]!.resume();
    await until(() => up.some((e) => e.nodeId === 'n2'), 5_000);
    await sleep(100);
    expect(await c.raw(c.nodes[2]!).hget('shardlock:cluster', 'm:n1')).toMatch(/^1:r:\d+$/);

    // Past the removal's window, a client started with the current list reads n2 alone.
    await sleep(2 * FAST.maxTtl + 100);
    c.nodes[0]!.pause();
    const b = c.client({ nodes: [specs[0]!, specs[2]!] });
    const started = await outcome(ready(b), 5_000);
    c.nodes[0]!.resume();
    expect(started.kind === 'error' ? describeError(started.error) : started.kind).toBe('value');
  });

  it('a client that reads the record before the tombstone lands reads it again', async () => {
    const { specs } = await removeN1WhileN2Hangs();
    await sleep(2 * FAST.maxTtl + 100);
    // B's hello waits in n2's socket and is answered as n2 resumes, ahead of A's next
    // contact there; the other node hangs, so B decides on n2's record alone.
    c.nodes[0]!.pause();
    const b = c.client({ nodes: [specs[0]!, specs[2]!] });
    await sleep(20);
    c.nodes[2]!.resume();
    const started = await outcome(ready(b), 5_000);
    c.nodes[0]!.resume();
    expect(started.kind === 'error' ? describeError(started.error) : started.kind).toBe('value');
  });
});

describe('simulator finding: a client with other settings meets only a node restarted empty', () => {
  // Found by `pnpm sim --seed 753` and `pnpm sim --focus late-settings --seed 903` (both
  // replayed in sim-found): the record holder hung and every other node had just restarted
  // empty, so the client read no record, took the cluster for brand-new, and served with its
  // own settings (and wrote them where the others' belonged).
  // With the settings a start that read no record writes before it routes, this case is
  // caught twice: by the re-reads, and, without them, by that write (docs/safety.md).
  it('reads the records again before it takes the cluster for brand-new', async () => {
    await c.start(2);
    const specs = nodeSpecs(c.nodes);
    const link = await LinkProxy.start({ port: c.nodes[0]!.port });
    try {
      const a = c.client({ nodes: [{ ...specs[0]!, port: link.port }, specs[1]!] });
      await connected(a);
      c.nodes[1]!.pause();
      // A meets n0 again, and records the cluster there, a little after B reads it.
      link.set('up', 'delay', 60);
      await c.nodes[0]!.restartEmpty();
      const b = c.client({ vnodes: 64 });
      const started = await outcome(ready(b), 10_000);
      c.nodes[1]!.resume();
      expect(started.kind === 'error' ? codeOf(started.error) : started.kind).toBe(
        'ERR_SETTINGS_MISMATCH',
      );
    } finally {
      await link.close();
    }
  });
});
