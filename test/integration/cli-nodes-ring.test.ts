import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LockClient } from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import { freePort } from '../harness/index.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/redis.js';
import { connected, lockKeys, useCluster, type Cluster } from './safety/helpers.js';

// `shardlock nodes` and `shardlock ring` end to end against real redis-server processes.

const c: Cluster = useCluster();

interface NodeRow {
  readonly id: string;
  readonly address: string;
  readonly state: string;
  readonly runId: string;
  readonly uptimeSeconds: number;
  readonly lockKeys: number;
  readonly share: number;
  readonly maxmemoryPolicy: string;
  readonly roundTripMs: number;
  readonly problems: { code: string; message: string }[];
}

const named = (): string => c.nodes.map((n, i) => `n${i}=127.0.0.1:${n.port}`).join(',');
const unnamed = (): string => c.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');

async function app(options: Parameters<Cluster['client']>[0] = {}): Promise<LockClient> {
  const client = c.client(options);
  await connected(client);
  return client;
}

/** Waits until every node has run a whole second: older than maxTtl + drift of FAST (305 ms). */
async function settled(): Promise<void> {
  await until(
    async () => {
      const uptimes = await Promise.all(c.nodes.map(async (n) => c.raw(n).info('server')));
      return uptimes.every((info) => Number(/uptime_in_seconds:(\d+)/.exec(info)?.[1]) >= 1);
    },
    5_000,
    100,
  );
}

async function nodesJson(
  args: string[],
): Promise<{ code: number | null; nodes: NodeRow[]; stderr: string }> {
  const exit = await runCli(['nodes', ...args, '--json']);
  return {
    code: exit.code,
    nodes: (JSON.parse(exit.stdout) as { nodes: NodeRow[] }).nodes,
    stderr: exit.stderr,
  };
}

describe('shardlock nodes', () => {
  it('reports every node’s state, run_id, uptime, lock keys, share, policy and round trip', async () => {
    await c.start(3);
    const client = await app();
    for (let i = 0; i < 9; i++) await client.acquire(`k${i}`, { ttl: 300 });
    await settled();
    const { code, nodes } = await nodesJson(['--nodes', unnamed()]);
    expect(code).toBe(0);
    const ring = new HashRing(['n0', 'n1', 'n2'], { vnodes: 4096 }).shares();
    for (const [i, row] of nodes.entries()) {
      const raw = c.raw(c.nodes[i]!);
      const info = await raw.info('server');
      expect(row).toMatchObject({
        id: `n${i}`,
        address: `127.0.0.1:${c.nodes[i]!.port}`,
        state: 'up',
        runId: /run_id:(\w+)/.exec(info)![1],
        maxmemoryPolicy: 'noeviction',
        problems: [],
      });
      expect(row.uptimeSeconds).toBeGreaterThanOrEqual(1);
      expect(row.lockKeys).toBe((await lockKeys(raw)).length);
      expect(row.share).toBeCloseTo(ring.get(`n${i}`)!, 10);
      expect(row.roundTripMs).toBeGreaterThan(0);
    }
    const table = await runCli(['nodes', '--nodes', unnamed()]);
    expect(table.stdout).toMatch(/\| n0 +\| 127\.0\.0\.1:\d+ +\| up /);
    expect(table.stdout).toContain('no problem found');
  });

  it('flags eviction policies that can drop locks and settings that disagree with the record', async () => {
    await c.start(3);
    await app();
    await settled();
    await c.raw(c.nodes[1]!).config('SET', 'maxmemory-policy', 'allkeys-lru');
    await c.raw(c.nodes[2]!).config('SET', 'maxmemory-policy', 'volatile-lru');
    await c.raw(c.nodes[2]!).config('SET', 'maxmemory', '100mb');
    const { code, nodes } = await nodesJson(['--nodes', named()]);
    expect(code).toBe(4);
    expect(nodes.map((n) => n.problems.map((p) => p.code))).toEqual([
      [],
      ['eviction'],
      ['eviction'],
    ]);
    expect(nodes[1]!.problems[0]!.message).toMatch(
      /^maxmemory-policy allkeys-lru may evict held locks/,
    );
    const table = await runCli(['nodes', '--nodes', named()]);
    expect(table.stdout).toMatch(/problems:\n {2}n1 \(eviction\): maxmemory-policy allkeys-lru/);
    const dir = mkdtempSync(join(tmpdir(), 'shardlock-cli-'));
    try {
      const file = join(dir, 'shardlock.json');
      const specs = c.nodes.map((n, i) => ({ id: `n${i}`, port: n.port }));
      writeFileSync(file, JSON.stringify({ nodes: specs, maxTtl: 9_000 }));
      const wrong = await nodesJson(['--config', file]);
      expect(wrong.code).toBe(4);
      for (const node of wrong.nodes) {
        const settings = node.problems.find((p) => p.code === 'settings')!;
        expect(settings.message).toContain('maxTtl 300 in its record, 9000 here');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('flags nodes younger than maxTtl + drift, one restarted empty, and one that is down', async () => {
    await c.start(3);
    const client = await app({ maxTtl: 60_000 });
    const young = await nodesJson(['--nodes', named()]);
    expect(young.code).toBe(4);
    expect(young.nodes.map((n) => n.state)).toEqual(['quarantined', 'quarantined', 'quarantined']);
    expect(young.nodes[0]!.problems[0]!.message).toMatch(
      /^started \d+ s ago, less than maxTtl \+ drift \(60\.6 s\)/,
    );
    // Closed first: a running client would meet the new server and record it again.
    await client.close();
    await c.nodes[1]!.restartEmpty();
    await c.nodes[2]!.kill();
    const after = await nodesJson(['--nodes', named()]);
    expect(after.code).toBe(1);
    expect(after.nodes[1]!.problems.map((p) => p.code)).toEqual(['young', 'no-record']);
    expect(after.nodes[2]).toMatchObject({ state: 'down', problems: [{ code: 'unreachable' }] });
    expect(after.nodes[2]!.problems[0]!.message).toContain('ECONNREFUSED');
  });

  it('on nodes no client has used, writes nothing', async () => {
    await c.start(2);
    const exit = await runCli(['nodes', '--nodes', unnamed()]);
    expect([0, 4]).toContain(exit.code);
    expect(exit.stdout).toContain('| 127.0.0.1:');
    for (const node of c.nodes) expect(await c.raw(node).keys('*')).toEqual([]);
  });
});

describe('shardlock ring', () => {
  interface RingOut {
    replicas: number;
    keys: { key: string; owners: string[]; preference: string[]; after?: { owners: string[] } }[];
    simulation?: { action: string; nodeId: string; movedShare: number; exact: boolean };
  }
  const ringJson = async (args: string[]): Promise<RingOut> => {
    const exit = await runCli(['ring', ...args, '--json']);
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    return JSON.parse(exit.stdout) as RingOut;
  };
  const keys = ['order:1', 'order:2', 'user:7', 'invoice:99', 'x'];

  it('places keys as the applications do, with ids and settings read from the records', async () => {
    await c.start(4);
    const client = await app({ vnodes: 512 });
    const out = await ringJson([...keys, '--nodes', unnamed()]);
    const ring = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: 512 });
    // With the default vnodes some of these keys would have other owners: the record's count.
    const byDefault = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: 4096 });
    expect(keys.some((key) => byDefault.owner(key) !== ring.owner(key))).toBe(true);
    expect(out.replicas).toBe(1);
    for (const [i, key] of keys.entries()) {
      expect(out.keys[i]).toEqual({
        key,
        owners: [client.nodeFor(key)],
        preference: ring.owners(key, 3),
      });
    }
    const table = await runCli(['ring', 'order:1', '--nodes', unnamed()]);
    const preference = ring.owners('order:1', 3).join(' → ');
    expect(table.stdout).toMatch(
      new RegExp(`\\| order:1 \\| ${client.nodeFor('order:1')} +\\| ${preference} +\\|`),
    );
  });

  it('--simulate-add and --simulate-remove: where keys go and the exact share that moves', async () => {
    await c.start(4);
    await app();
    const ring = new HashRing(['n0', 'n1', 'n2', 'n3'], { vnodes: 4096 });
    const added = await ringJson([...keys, '--nodes', unnamed(), '--simulate-add', 'n4=2']);
    const bigger = ring.add({ id: 'n4', weight: 2 });
    expect(added.simulation).toEqual({
      action: 'add',
      nodeId: 'n4',
      movedShare: bigger.shares().get('n4'),
      exact: true,
    });
    expect(added.simulation!.movedShare).toBeGreaterThan(0.25);
    for (const row of added.keys) expect(row.after!.owners).toEqual([bigger.owner(row.key)]);
    const removed = await ringJson(['--nodes', unnamed(), '--simulate-remove', 'n0']);
    expect(removed.simulation).toMatchObject({
      action: 'remove',
      movedShare: ring.shares().get('n0'),
    });
    const table = await runCli(['ring', ...keys, '--nodes', unnamed(), '--simulate-add', 'n4=2']);
    const moved = keys.filter((key) => bigger.owner(key) === 'n4');
    for (const key of moved)
      expect(table.stdout).toMatch(new RegExp(`\\| ${key} .*\\| n4 \\(moves\\) \\|`));
    expect(table.stdout).toMatch(/adding n4 moves \d+\.\d % of keys \(exactly\)/);
  });

  it('quorum mode: replica sets, and the sampled share whose set changes', async () => {
    await c.start(5);
    await app({ replicas: 3 });
    const ids = ['n0', 'n1', 'n2', 'n3', 'n4'];
    const out = await ringJson([...keys, '--nodes', unnamed(), '--simulate-add', 'n5']);
    expect(out.replicas).toBe(3);
    const ring = new HashRing(ids, { vnodes: 4096 });
    for (const row of out.keys) expect(row.owners).toEqual(ring.owners(row.key, 3));
    // A key's set changes exactly when n5 enters its first three of six: about half of them.
    expect(out.simulation!.exact).toBe(false);
    expect(out.simulation!.movedShare).toBeGreaterThan(0.47);
    expect(out.simulation!.movedShare).toBeLessThan(0.53);
  });

  it('works from a config file with nodes that are down; refuses bad simulations', async () => {
    const ports = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'shardlock-cli-'));
    try {
      const file = join(dir, 'shardlock.json');
      writeFileSync(
        file,
        JSON.stringify({ nodes: ports.map((port, i) => ({ id: `m${i}`, port })), vnodes: 64 }),
      );
      const out = await ringJson(['order:1', '--config', file]);
      expect(out.keys[0]!.owners).toEqual([
        new HashRing(['m0', 'm1'], { vnodes: 64 }).owner('order:1'),
      ]);
      const both = await runCli([
        'ring',
        'k',
        '--config',
        file,
        '--simulate-add',
        'a',
        '--simulate-remove',
        'm0',
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/^shardlock: give --simulate-add or --simulate-remove, not both/);
      const unknown = await runCli(['ring', '--config', file, '--simulate-remove', 'zz']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('zz');
      const nothing = await runCli(['ring', '--config', file]);
      expect(nothing.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
