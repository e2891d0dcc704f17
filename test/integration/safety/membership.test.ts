import { describe, expect, it } from 'vitest';
import { ShardlockError, type LockClient } from '@shardlock/core';
import { LinkProxy, nodeSpecs } from '../../harness/index.js';
import { until } from '../../support/redis.js';
import {
  codeOf,
  connected,
  describeError,
  events,
  keyWhere,
  lockKey,
  outcome,
  sleep,
  useCluster,
  type Cluster,
} from './helpers.js';

// Membership changes that go wrong at their edges: a lone node that fails over and comes
// back, a node added while it is young that dies before it is trusted, and two addNode calls
// for one id. Review defects 6, 8 and 10.

const c: Cluster = useCluster();

describe('defect 6: a RingError escapes from acquire', () => {
  it('a lone node that failed over and came back never makes acquire or tryAcquire throw a non-ShardlockError', async () => {
    await c.start(1);
    const client = c.client();
    const rebalances = events(client, 'rebalance');
    await connected(client);
    await c.nodes[0]!.kill();
    await until(() => client.stats()[0]!.state === 'failed-over', 3_000);
    await c.nodes[0]!.restartEmpty();

    // Back, restarted: it rejoins, handing its keys off from a ring that had no node at all.
    const foreign: string[] = [];
    const end = performance.now() + 2_000;
    for (let i = 0; performance.now() < end; i++) {
      try {
        const lock = await (i % 2 === 0
          ? client.tryAcquire('solo')
          : client.acquire('solo', { retry: { attempts: 0 } }));
        await lock?.release();
      } catch (error) {
        if (!(error instanceof ShardlockError)) foreign.push(describeError(error));
      }
      await sleep(5);
    }
    expect(rebalances.map((e) => e.reason)).toContain('rejoin');
    expect.soft([...new Set(foreign)]).toEqual([]);
    // Back and trusted: the key is served again.
    const lock = await client.acquire('solo', { waitTimeout: 3_000 });
    expect(lock.isValid()).toBe(true);
  });
});

describe('defect 8: addNode of a young server that dies during its quarantine wait', () => {
  it('rejects with ERR_NODE_UNAVAILABLE and does not list the node as up', async () => {
    const MAX_TTL = 1_500;
    const options = { maxTtl: MAX_TTL, defaultTtl: MAX_TTL, restartQuarantine: true };
    await c.start(3);
    const specs = nodeSpecs(c.nodes);
    // A meets n2 as a member, so the cluster has a record of it; then A takes it out (a client
    // starting with only n0 and n1 is then right), and n2 restarts empty.
    const a = c.client({ ...options, nodes: specs });
    await connected(a);
    await a.removeNode('n2');
    await a.close();
    await c.nodes[2]!.restartEmpty();

    const b = c.client({ ...options, nodes: specs.slice(0, 2) });
    await connected(b);
    // n2 is young: B waits out a quarantine of ~1.5 s before it trusts it. It dies meanwhile.
    const adding = outcome(b.addNode(specs[2]!), 8_000);
    await sleep(400);
    await c.nodes[2]!.kill();
    const added = await adding;
    expect
      .soft(added.kind === 'error' ? codeOf(added.error) : added.kind)
      .toBe('ERR_NODE_UNAVAILABLE');
    expect.soft(b.stats().find((s) => s.id === 'n2')?.state).not.toBe('up');
    // B's own keys keep working.
    for (const id of ['n0', 'n1']) {
      const key = keyWhere('b-key', (k) => b.nodeFor(k) === id);
      const lock = await b.acquire(key, { waitTimeout: 4_000 });
      expect(lock.nodeId).toBe(id);
      await lock.release();
    }
  });
});

describe('defect 10: two concurrent addNode calls with the same id', () => {
  it('exactly one joins, the other is refused, and close() leaves no connection behind', async () => {
    await c.start(3);
    const specs = nodeSpecs(c.nodes);
    const client = c.client({ nodes: specs.slice(0, 2) });
    await connected(client);
    const results = await Promise.allSettled([
      client.addNode(specs[2]!),
      client.addNode(specs[2]!),
    ]);
    const got = results.map((r) =>
      r.status === 'fulfilled' ? 'joined' : (codeOf(r.reason) ?? describeError(r.reason)),
    );
    expect.soft(got.sort()).toEqual(['ERR_INVALID_ARGUMENT', 'joined']);
    expect.soft(client.stats().filter((s) => s.id === 'n2')).toHaveLength(1);

    await client.close();
    const probe = c.raw(c.nodes[2]!);
    const list = async (): Promise<string> => String(await probe.call('CLIENT', 'LIST'));
    await until(async () => !/name=shardlock\b/.test(await list()), 1_000).catch(() => undefined);
    expect(await list()).not.toMatch(/name=shardlock\b/);
  });

  it('an addNode asked before the start of a client closed meanwhile opens no connection', async () => {
    // Found by the simulator once changes could come while a process started: the add
    // waited for the start, which came after close(), and then connected the node.
    await c.start(3);
    const specs = nodeSpecs(c.nodes);
    c.nodes[1]!.pause();
    const client = c.client({ nodes: specs.slice(0, 2) });
    const adding = outcome(client.addNode(specs[2]!), 5_000);
    await sleep(100);
    await client.close();
    c.nodes[1]!.resume();
    const got = await adding;
    expect(got.kind === 'error' ? codeOf(got.error) : got.kind).toBe('ERR_CLIENT_CLOSED');
    await sleep(300);
    const list = String(await c.raw(c.nodes[2]!).call('CLIENT', 'LIST'));
    expect(list).not.toMatch(/name=shardlock\b/);
  });
});

describe('simulator finding: removing the only node that serves while the others are failed over', () => {
  // Found by `pnpm sim --seed 14` (schedule 4,014; replayed in test/sim/sim-found.test.ts):
  // two clients refused removeNode('n1') as "the last serving node" because every other
  // member was failed over at that moment; they kept routing keys to n1 alone while the
  // clients that applied the removal, and those started after it, used the others.
  it('applies the removal: its keys wait for a member to come back, never go to the removed node', async () => {
    await c.start(3);
    const client = c.client();
    const rebalances = events(client, 'rebalance');
    await connected(client);
    await c.nodes[0]!.kill();
    await c.nodes[2]!.kill();
    await until(() => rebalances.filter((r) => r.reason === 'failover').length === 2, 5_000);
    expect(client.stats().filter((s) => s.state === 'failed-over')).toHaveLength(2);

    await client.removeNode('n1');
    const key = keyWhere('only', () => true);
    expect(codeOf(await client.tryAcquire(key).catch((e: unknown) => e))).toMatch(
      /^ERR_NODE_(UNAVAILABLE|QUARANTINED)$/,
    );
    // A member comes back (trusted a quarantine after its new run started): the key goes to
    // it (and, for the removal's window, to n1 too).
    await c.nodes[0]!.restartEmpty();
    await until(() => client.stats().find((s) => s.id === 'n0')?.state === 'up', 5_000);
    const lock = await client.acquire(key, { waitTimeout: 5_000 });
    expect(lock.nodeIds).toContain('n0');
    expect(client.nodeFor(key)).toBe('n0');
  });

  it('still refuses to remove the last member', async () => {
    await c.start(1);
    const client = c.client();
    await connected(client);
    expect(codeOf(await client.removeNode('n0').catch((e: unknown) => e))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });
});

describe('simulator finding: a node added while every node is failed over', () => {
  it('does not serve keys alone while a client without the addition may use the old node when it returns', async () => {
    // Found by `pnpm sim` with one-node clusters: the only node failed over, one client added
    // another and granted keys there alone; a client that had not added it met the old node
    // back and granted the same keys there.
    const MAX_TTL = 3_000;
    const options = { maxTtl: MAX_TTL, defaultTtl: MAX_TTL };
    await c.start(2);
    const specs = nodeSpecs(c.nodes);
    const adder = c.client({ ...options, nodes: specs.slice(0, 1) });
    const other = c.client({ ...options, nodes: specs.slice(0, 1) });
    await connected(adder);
    await connected(other);
    await c.nodes[0]!.kill();
    const failedOver = (client: typeof adder): boolean =>
      client.stats().find((s) => s.id === 'n0')?.state === 'failed-over';
    await until(() => failedOver(adder) && failedOver(other), 8_000);
    await adder.addNode(specs[1]!);
    const first = await outcome(adder.tryAcquire('k'), 5_000);
    await c.nodes[0]!.restartEmpty();
    const second = await outcome(other.acquire('k', { waitTimeout: 2_000 }), 8_000);
    const held = (got: typeof first | typeof second): string => {
      if (got.kind !== 'value')
        return got.kind === 'error' ? (codeOf(got.error) ?? 'error') : got.kind;
      return got.value === null
        ? 'refused'
        : got.value.isValid()
          ? `valid on ${got.value.nodeId}`
          : 'expired';
    };
    const both = [held(first), held(second)];
    expect(
      both.every((one) => one.startsWith('valid')),
      both.join(' / '),
    ).toBe(false);
    expect(held(first)).toBe('ERR_NODE_QUARANTINED');
  });
});

describe('simulator finding: a node in a crash loop', () => {
  it('a client that missed a run waits a quarantine from the next run’s start, not from its old outage', async () => {
    // Found by `pnpm sim` (seed 501): `seen` met the node's second run and was granted a key
    // on it; the run died; `missed`, which had not reached the node since its first death,
    // met the third run first (before `seen` recorded it) and trusted it at once, its own
    // outage being long past.
    const MAX_TTL = 1_000;
    const options = { maxTtl: MAX_TTL, defaultTtl: MAX_TTL };
    const [node] = await c.start(1);
    const proxy = await LinkProxy.start({ port: node!.port });
    const seenProxy = await LinkProxy.start({ port: node!.port });
    try {
      const seen = c.client({ ...options, nodes: [{ id: 'n0', port: seenProxy.port }] });
      const missed = c.client({ ...options, nodes: [{ id: 'n0', port: proxy.port }] });
      await connected(seen);
      await connected(missed);
      const restarted = events(missed, 'nodeRestarted');
      await c.nodes[0]!.kill();
      await until(() => missed.stats()[0]!.state !== 'up', 3_000);
      await sleep(MAX_TTL + 200);
      proxy.set('both', 'blackhole');
      await c.nodes[0]!.restartEmpty();
      await until(() => seen.stats()[0]!.state === 'up', 5_000);
      const lock = await seen.acquire('loop', { waitTimeout: 5_000 });
      // `seen` does not reach the next run first (it would record it for everyone).
      seenProxy.set('both', 'blackhole');
      await c.nodes[0]!.restartEmpty();
      proxy.heal();
      await until(() => restarted.length > 0, 5_000);
      // Until the first grant's validity ends, `missed` must not be granted the key.
      const seenAs: string[] = [];
      while (performance.now() < lock.deadline - 20) {
        const got = await outcome(missed.tryAcquire('loop'), 2_000);
        if (got.kind === 'value' && got.value !== null) seenAs.push('granted');
        await sleep(25);
      }
      expect(seenAs, `the first grant was believed until ${lock.deadline}`).toEqual([]);
    } finally {
      await proxy.close();
      await seenProxy.close();
    }
  });
});

describe('simulator finding: two clients that each have a different node back', () => {
  // Found by `pnpm sim --seed 721` (replayed in test/sim/sim-found.test.ts): both nodes of a
  // cluster were failed over; one client met the restarted node first and trusted it first,
  // the other met the other node back first. Each granted a key on the node it had back,
  // alone (docs/safety.md, views).
  it('the client that has one node back and the other in its restart quarantine waits for it', async () => {
    const [n0, n1] = await c.start(2);
    // Each client reaches each server through its own proxy: [early n0, early n1, late n0, late n1].
    const proxies = await Promise.all([n0!, n1!, n0!, n1!].map((node) => LinkProxy.start(node)));
    try {
      const through = (first: number) =>
        c.client({
          restartQuarantine: true,
          nodes: [0, 1].map((i) => ({ id: `n${i}`, port: proxies[first + i]!.port })),
        });
      const [early, late] = [through(0), through(2)];
      await Promise.all([connected(early), connected(late)]);
      const state = (client: typeof early, id: string): string =>
        client.stats().find((s) => s.id === id)!.state;

      // n0 hangs: both fail it over; `late` loses n1 too, and fails it over.
      proxies[3]!.set('both', 'blackhole');
      n0!.pause();
      await until(() => state(early, 'n0') === 'failed-over', 5_000);
      await until(() => state(late, 'n0') === 'failed-over', 5_000);
      await until(() => state(late, 'n1') === 'failed-over', 5_000);
      // n1 restarts empty: `early` meets the new run at once, `late` 500 ms later, so its
      // restart quarantine ends 500 ms after `early`'s.
      const restarted = (client: typeof early) => events(client, 'nodeRestarted');
      const [earlyMet, lateMet] = [restarted(early), restarted(late)];
      await n1!.restartEmpty();
      await until(() => earlyMet.some((e) => e.nodeId === 'n1'), 3_000);
      await sleep(500);
      proxies[3]!.heal();
      // n0 answers again, for `late` only.
      proxies[0]!.set('both', 'blackhole');
      n0!.resume();
      await until(() => lateMet.some((e) => e.nodeId === 'n1'), 3_000);
      await until(() => state(late, 'n0') === 'up', 3_000);
      await until(() => state(early, 'n1') === 'up', 5_000);
      expect(state(late, 'n1')).toBe('failed-over');
      expect(state(early, 'n0')).toBe('failed-over');

      // `early` (n0 failed over, n1 back) takes k on n1; `late` (n0 back, n1 in its restart
      // quarantine) must not take it on n0.
      const held = await early.acquire('k', { ttl: 300, retry: { attempts: 0 } });
      expect(held.nodeIds).toEqual(['n1']);
      const second = await outcome(late.acquire('k', { ttl: 300, retry: { attempts: 0 } }), 2_000);
      expect(second.kind === 'error' ? codeOf(second.error) : second.kind).toBe(
        'ERR_NODE_QUARANTINED',
      );
      await held.release();
    } finally {
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });
});

describe('simulator findings: a removed node that is owed a release', () => {
  /** An acquire on paused n1 whose reply is lost: n1 is owed its release. n1 stays paused. */
  async function owedByPausedN1(name: string, maxTtl: number) {
    await c.start(2);
    const client = c.client({ maxTtl, defaultTtl: maxTtl });
    await connected(client);
    const key = keyWhere(name, (k) => client.nodeFor(k) === 'n1');
    await (await client.acquire(key)).release();
    c.nodes[1]!.pause();
    const got = await outcome(client.acquire(key), 5_000);
    expect(got.kind === 'error' ? codeOf(got.error) : got.kind).toBe('ERR_NODE_UNAVAILABLE');
    return { client, key };
  }

  /** Removes n1 and waits until its window has ended and the client no longer lists it. */
  async function removeN1(client: LockClient): Promise<void> {
    const ended = events(client, 'handoffEnd');
    await client.removeNode('n1');
    await until(() => ended.length > 0 && !client.stats().some((s) => s.id === 'n1'), 10_000);
  }

  it('close() ends that connection too: nothing reconnects to the node afterwards', async () => {
    // Found by the simulator (a hunt, seed 801): a removed node's connection stays open after
    // its window until the releases it is owed are sent; close() did not end it, and it kept
    // reconnecting after close() had returned.
    const { client } = await owedByPausedN1('owed', 5_000);
    await c.nodes[1]!.kill();
    await removeN1(client);
    await client.close();

    await c.nodes[1]!.restartEmpty();
    const probe = c.raw(c.nodes[1]!);
    const accepted = async (): Promise<number> =>
      Number(/total_connections_received:(\d+)/.exec(await probe.info('stats'))![1]);
    const before = await accepted();
    await sleep(1_000);
    expect(await accepted(), 'connections n1 accepted after close()').toBe(before);
  });

  it('a late grant it runs long after its removal is still released when it answers again', async () => {
    // Found by a simulator hunt (seed 1014, schedule 1,836): a node paused through its own
    // removal ran, as it resumed, an acquire whose reply the client had given up on. The
    // client had closed the removed node's connection after waiting maxTtl for it ("by then
    // they have expired"), but a lease counts from when the server runs the command: the key
    // stayed held for a whole TTL after the resume.
    try {
      const { client, key } = await owedByPausedN1('late-on-removed', 1_000);
      await removeN1(client);
      // Past the old linger (maxTtl) with the node still paused.
      await sleep(1_300);
      c.nodes[1]!.resume();
      const probe = c.raw(c.nodes[1]!);
      await until(async () => (await probe.exists(lockKey(key))) === 0, 600).catch(() => undefined);
      expect(await probe.pttl(lockKey(key)), 'PTTL of the late grant 600 ms after the resume').toBe(
        -2,
      );
    } finally {
      c.nodes[1]!.resume();
    }
  });
});

describe('simulator findings: a client whose addNode failed', () => {
  it('does not grant the node’s keys on their old owner while another client’s lease there may hold', async () => {
    // Found by a simulator hunt (seed 805, schedule 26,324): a client that started late had
    // its addNode of n1 fail as n1 restarted, and granted a key on n0, the old owner, while
    // the client that had added n1 long before still held it there.
    await c.start(2);
    const specs = nodeSpecs(c.nodes);
    const leases = { nodes: specs.slice(0, 1), maxTtl: 2_000, defaultTtl: 2_000 };
    const a = c.client(leases);
    const b = c.client(leases);
    await connected(a);
    await connected(b);
    const ended = events(a, 'handoffEnd');
    await a.addNode(specs[1]!);
    await until(() => ended.length > 0, 10_000);
    const key = keyWhere('moved', (k) => a.nodeFor(k) === 'n1');
    const held = await a.acquire(key);
    expect(held.nodeIds).toEqual(['n1']);

    await c.nodes[1]!.kill();
    const adding = await outcome(b.addNode(specs[1]!, 500), 5_000);
    expect(adding.kind === 'error' ? codeOf(adding.error) : adding.kind).toBe(
      'ERR_NODE_UNAVAILABLE',
    );
    const got = await outcome(b.tryAcquire(key), 5_000);
    const seen = got.kind === 'value' ? (got.value === null ? 'refused' : 'granted') : got.kind;
    expect(Date.now(), 'still within the lease a holds').toBeLessThan(held.validUntil);
    expect(seen, `a holds ${key} on n1 until ${held.validUntil}`).not.toBe('granted');
    if (got.kind === 'error') expect(codeOf(got.error)).toBe('ERR_NODE_QUARANTINED');
  });
});
