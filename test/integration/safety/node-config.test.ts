import { describe, expect, it } from 'vitest';
import { ShardlockError, type LockClient, type LockClientOptions } from '@shardlock/core';
import { LinkProxy, nodeSpecs } from '../../harness/index.js';
import { until } from '../../support/redis.js';
import {
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
  type Outcome,
} from './helpers.js';

// Nodes and clients a client must refuse to start with, rather than hang or grant twice: an
// ACL user that lacks a command the client needs, settings that differ from the other
// clients' (docs/safety.md hazard 9), and a server that may evict keys (hazard 13). The refusal
// comes from `ready()` and from every lock call. Review defects 7, 13 and 15.

const c: Cluster = useCluster();

/** A user `locker` (password `pw`) with every command except `denied`; `default` is off. */
const withoutCommand = (denied: string): string[] => [
  '--user',
  'locker',
  'on',
  '>pw',
  '~*',
  '&*',
  '+@all',
  `-${denied}`,
  '--user',
  'default',
  'off',
];

/** The refusal as a record of its fields, or how the call ended otherwise. */
function refusal(got: Outcome<unknown>, field: string): Record<string, unknown> | string {
  if (got.kind === 'timeout') return 'still pending after 5 s';
  if (got.kind === 'value') return 'succeeded';
  const error = got.error as Record<string, unknown>;
  return {
    shardlock: got.error instanceof ShardlockError,
    code: codeOf(got.error),
    [field]: error[field],
    message: describeError(got.error),
  };
}

/** What the lock calls and `ready()` of `client` end with, together bounded by 5 s. */
async function refusals(client: LockClient, field: string): Promise<unknown[]> {
  const got = await Promise.all([
    outcome(client.acquire('k1', { waitTimeout: 500 }), 5_000),
    outcome(client.tryAcquire('k2'), 5_000),
    outcome(ready(client), 5_000),
  ]);
  return got.map((one) => refusal(one, field));
}

/** Expects every refusal to carry `code`, `field: value`, and a message naming the value. */
function expectRefused(got: unknown[], code: string, field: string, value: string | RegExp): void {
  const pattern = value instanceof RegExp ? value : new RegExp(value, 'i');
  const names: unknown = expect.stringMatching(pattern);
  const fieldValue: unknown = value instanceof RegExp ? names : value;
  const expected = { shardlock: true, code, [field]: fieldValue, message: names };
  expect(got).toEqual([expected, expected, expected]);
}

describe('defect 7: an ACL user that may not run a command the client needs', () => {
  it('without INFO: every call and ready() reject with ERR_NODE_PERMISSION naming info, no hang', async () => {
    const [node] = await c.start(1, { args: withoutCommand('info') });
    const client = c.client({
      nodes: [{ id: 'acl', port: node!.port }],
      redis: { username: 'locker', password: 'pw' },
    });
    expectRefused(await refusals(client, 'command'), 'ERR_NODE_PERMISSION', 'command', 'info');
  });

  it('without PEXPIRE (used by the lock script): refused at connect, naming pexpire', async () => {
    const [node] = await c.start(1, { args: withoutCommand('pexpire') });
    const client = c.client({
      nodes: [{ id: 'acl', port: node!.port }],
      redis: { username: 'locker', password: 'pw' },
    });
    expectRefused(await refusals(client, 'command'), 'ERR_NODE_PERMISSION', 'command', 'pexpire');
  });
});

describe('defect 13: settings every client must share', () => {
  const MISMATCHES: [string, Partial<LockClientOptions>, RegExp | string][] = [
    ['maxTtl', { maxTtl: 1_500 }, 'maxTtl'],
    ['driftFactor', { driftFactor: 0.02 }, 'driftFactor'],
    ['vnodes', { vnodes: 1_024 }, 'vnodes'],
    ['node weight', {}, /weight/],
  ];

  it.each(MISMATCHES)(
    'a second client with another %s is refused with ERR_SETTINGS_MISMATCH; the first keeps working',
    async (what, differs, setting) => {
      await c.start(2);
      // handoffWindow is given, so that only the setting under test differs.
      const same = { maxTtl: 1_000, handoffWindow: 3_000 };
      const first = c.client(same);
      await connected(first);
      await (await first.acquire('recorded')).release();

      const specs = nodeSpecs(c.nodes);
      const second = c.client({
        ...same,
        ...differs,
        ...(what === 'node weight' ? { nodes: [{ ...specs[0]!, weight: 2 }, specs[1]!] } : {}),
      });
      expectRefused(await refusals(second, 'setting'), 'ERR_SETTINGS_MISMATCH', 'setting', setting);

      const lock = await first.acquire('first-still-works');
      expect(await lock.release()).toBe(true);
    },
  );
});

describe('two clients with different settings start at once on a brand-new cluster', () => {
  // Both read no record, both start as the cluster's first client, and the record keeps the
  // settings that reached it first: the other learns it only from its own record write.
  it('the one whose settings the record did not keep is refused', async () => {
    await c.start(1);
    const clients = [c.client(), c.client({ vnodes: 64 })];
    const got = await Promise.all(
      clients.map(async (client) => {
        const result = await outcome(client.tryAcquire('at-once'), 5_000);
        if (result.kind !== 'value')
          return result.kind === 'error' ? codeOf(result.error) : 'timeout';
        await result.value?.release();
        return 'worked';
      }),
    );
    expect(got.sort()).toEqual(['ERR_SETTINGS_MISMATCH', 'worked']);
  });
});

describe('a client that started before it could read any record (found by the simulator)', () => {
  it('refuses to work once the first record it reads has other settings, and writes them nowhere', async () => {
    // Found by `pnpm sim` (seed 703): a client with other settings whose only node was out of
    // reach at its start met it later, refused just that node, and went on to add a new node,
    // writing its own settings into the new node's record; the other clients' adds then failed.
    const [, fresh] = await c.start(2);
    const specs = nodeSpecs(c.nodes);
    const first = c.client({ maxTtl: 1_000, nodes: [specs[0]!] });
    await connected(first);
    const proxy = await LinkProxy.start({ port: c.nodes[0]!.port });
    try {
      proxy.refuse();
      const late = c.client({ maxTtl: 1_500, nodes: [{ id: 'n0', port: proxy.port }] });
      await ready(late);
      const errors = events(late, 'nodeError');
      proxy.accept();
      await until(() => errors.some((e) => codeOf(e.error) === 'ERR_SETTINGS_MISMATCH'), 5_000);
      const got = await outcome(late.tryAcquire('other-settings'), 5_000);
      expect(got.kind === 'error' ? codeOf(got.error) : got.kind).toBe('ERR_SETTINGS_MISMATCH');
      const adding = await outcome(late.addNode(specs[1]!), 5_000);
      expect(adding.kind === 'error' ? codeOf(adding.error) : adding.kind).toBe(
        'ERR_SETTINGS_MISMATCH',
      );
      expect(await c.raw(fresh!).hget('shardlock:cluster', 'settings')).toBeNull();
      // The clients with the cluster's settings can still add the node.
      await first.addNode(specs[1]!);
    } finally {
      await proxy.close();
    }
  });
});

describe('a record read before the start from a node down when the start decides (found by the simulator)', () => {
  it('still stops a client whose settings differ', async () => {
    // Found by `pnpm sim --seed 707`: the start compared only the records of the nodes up
    // when it decided, so a client that had read the one record it could get from a node
    // that went down meanwhile started as if it had read none.
    await c.start(2);
    const first = c.client({ maxTtl: 1_000 });
    await connected(first);
    c.nodes[1]!.pause();
    const late = c.client({ maxTtl: 1_500 });
    const errors = events(late, 'nodeError');
    const up = events(late, 'nodeUp');
    const starting = outcome(ready(late), 10_000);
    // It reads n0's record while its start waits for the hung n1; then both go down.
    await until(() => up.some((e) => e.nodeId === 'n0'), 5_000);
    await c.nodes[0]!.kill();
    await c.nodes[1]!.kill();
    const got = await starting;
    expect(
      got.kind === 'error' ? codeOf(got.error) : got.kind,
      errors.map((e) => String(e.error)).join(),
    ).toBe('ERR_SETTINGS_MISMATCH');
  });
});

describe('defect 15: a server that may evict keys', () => {
  it('maxmemory-policy allkeys-lru: every call and ready() reject with ERR_EVICTION_POLICY', async () => {
    const [node] = await c.start(1, {
      args: ['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    const client = c.client({ nodes: [{ id: 'lru', port: node!.port }] });
    expectRefused(await refusals(client, 'policy'), 'ERR_EVICTION_POLICY', 'policy', 'allkeys-lru');
  });

  it('a user that may not run CONFIG on a noeviction node works normally', async () => {
    const [node] = await c.start(1, { args: withoutCommand('config') });
    const client = c.client({
      nodes: [{ id: 'noconfig', port: node!.port }],
      redis: { username: 'locker', password: 'pw' },
    });
    const lock = await client.acquire('k', { waitTimeout: 1_000 });
    expect(await client.tryAcquire('k')).toBeNull();
    await lock.extend();
    expect(await lock.release()).toBe(true);
    const started = await outcome(ready(client), 5_000);
    expect(started.kind === 'error' ? describeError(started.error) : started.kind).toBe('value');
  });
});

describe('a node refused after the start (found by reverting its rule once)', () => {
  it('keys of a node found to evict keys at a reconnect are refused, never failed over', async () => {
    await c.start(2);
    const client = c.client();
    const errors = events(client, 'nodeError');
    await connected(client);
    const key = keyWhere('refused', (k) => client.nodeFor(k) === 'n1');
    const raw = c.raw(c.nodes[1]!);
    await raw.config('SET', 'maxmemory-policy', 'allkeys-lru');
    // Drop the client's connections: it meets n1 again, and finds the policy.
    await raw.call('CLIENT', 'KILL', 'TYPE', 'normal').catch(() => undefined);
    await until(() => errors.some((e) => codeOf(e.error) === 'ERR_EVICTION_POLICY'), 5_000);
    // Long past the quarantine (~305 ms) and detection: a failed-over key would be granted.
    await sleep(1_000);
    const got = await outcome(client.tryAcquire(key), 5_000);
    expect(refusal(got, 'policy')).toMatchObject({ code: 'ERR_EVICTION_POLICY' });
  });
});

/** The ids in a CLIENT LIST reply. */
function clientIds(list: string): string[] {
  return [...list.matchAll(/^id=(\d+)/gm)].map((match) => match[1]!);
}

describe('a refused node that restarts empty (found by the simulator)', () => {
  it('is quarantined from when the refusing client meets its new run, not from its old outage', async () => {
    // Found by `pnpm sim --seed 10`: a client that refused a node (eviction policy) while the
    // others kept using it took its outage as the start of the quarantine; when the node
    // restarted empty long after, it granted the node's keys at once, while another client's
    // lease on the old run was still believed.
    const MAX_TTL = 1_500;
    await c.start(2);
    const raw = c.raw(c.nodes[1]!);
    const holder = c.client({ maxTtl: MAX_TTL, defaultTtl: MAX_TTL });
    await connected(holder);
    const kept = new Set(clientIds(String(await raw.call('CLIENT', 'LIST', 'TYPE', 'normal'))));
    const refusing = c.client({ maxTtl: MAX_TTL, defaultTtl: MAX_TTL });
    const errors = events(refusing, 'nodeError');
    const restarted = events(refusing, 'nodeRestarted');
    await connected(refusing);
    const key = keyWhere('refused-restart', (k) => refusing.nodeFor(k) === 'n1');
    await raw.config('SET', 'maxmemory-policy', 'allkeys-lru');
    // Only the refusing client's connections drop: it meets n1 again and finds the policy;
    // the holder keeps using n1.
    for (const id of clientIds(String(await raw.call('CLIENT', 'LIST', 'TYPE', 'normal')))) {
      if (!kept.has(id)) await raw.call('CLIENT', 'KILL', 'ID', id).catch(() => undefined);
    }
    await until(() => errors.some((e) => codeOf(e.error) === 'ERR_EVICTION_POLICY'), 5_000);
    // Longer than a quarantine after the refusing client lost its connection.
    await sleep(MAX_TTL + 300);
    const lock = await holder.acquire(key);
    expect(lock.nodeId).toBe('n1');
    await c.nodes[1]!.restartEmpty();
    await until(() => restarted.some((e) => e.nodeId === 'n1'), 5_000);
    const got = await outcome(refusing.tryAcquire(key), 5_000);
    const seen =
      got.kind === 'error' ? codeOf(got.error) : got.kind === 'value' ? 'granted' : got.kind;
    expect(seen, `the holder's lease was believed until ${lock.deadline}`).toBe(
      'ERR_NODE_QUARANTINED',
    );
  });
});
