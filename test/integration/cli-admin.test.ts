import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, LockLostError, type Lock, type LockClient } from '@shardlock/core';
import { runCli, spawnCli } from '../support/cli.js';
import { connected, lockKey, useCluster, type Cluster } from './safety/helpers.js';

// `shardlock locks`, `inspect` and `unlock` end to end against real redis-server processes:
// in this process through `main` (fast, and the only way to give it a terminal), and as the
// built command for what only a process shows (exit codes, stdin that is no terminal, env).

const c: Cluster = useCluster();

interface LockRow {
  readonly key: string;
  readonly nodeId: string;
  readonly ttl: number;
  readonly fingerprint: string;
  readonly lastFence: string;
}

/** `--nodes` for the cluster's nodes, without ids: the command reads them from the records. */
const addresses = (): string => c.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');

async function app(options: Parameters<Cluster['client']>[0] = {}): Promise<LockClient> {
  const client = c.client({ maxTtl: 60_000, ...options });
  await connected(client);
  return client;
}

describe('shardlock locks', () => {
  it('lists held locks on every node, longest lease first, with node, fence and fingerprint', async () => {
    await c.start(3);
    const client = await app();
    const orders: Lock[] = [];
    for (let i = 0; i < 12; i++)
      orders.push(await client.acquire(`order:${i}`, { ttl: 20_000 + i * 1_000 }));
    await client.acquire('user:1', { ttl: 50_000 });
    const json = await runCli([
      'locks',
      '--nodes',
      addresses(),
      '--match',
      'order:*',
      '--limit',
      '5',
      '--json',
    ]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { locks: LockRow[]; total: number; errors: unknown[] };
    expect(out.total).toBe(12);
    expect(out.errors).toEqual([]);
    expect(out.locks.map((l) => l.key)).toEqual([
      'order:11',
      'order:10',
      'order:9',
      'order:8',
      'order:7',
    ]);
    for (const row of out.locks) {
      const lock = orders.find((l) => l.key === row.key)!;
      expect(row.nodeId).toBe(client.nodeFor(row.key));
      expect(row.fingerprint).toBe(fingerprintOf(lock.token));
      expect(BigInt(row.lastFence)).toBeGreaterThanOrEqual(lock.fence);
    }
    const table = await runCli(['locks', '--nodes', addresses()]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[2]).toMatch(/^\| user:1 +\| n\d +\| (4\d\.\d|50\.0) s /);
    expect(table.stdout).toContain('13 of 13 held locks shown, the longest remaining lease first');
  });

  it('reports a node that cannot be reached on one line with its cause, lists the others, exit 1', async () => {
    await c.start(3);
    const client = await app();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const key of keys) await client.acquire(key);
    await c.nodes[2]!.kill();
    const exit = await runCli([
      'locks',
      '--nodes',
      `n0=127.0.0.1:${c.nodes[0]!.port},n1=127.0.0.1:${c.nodes[1]!.port},n2=127.0.0.1:${c.nodes[2]!.port}`,
      '--json',
    ]);
    expect(exit.code).toBe(1);
    const lines = exit.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^shardlock: node "n2" \\(127\\.0\\.0\\.1:${c.nodes[2]!.port}\\) .*ECONNREFUSED`),
    );
    const listed = (JSON.parse(exit.stdout) as { locks: LockRow[] }).locks.map((l) => l.key).sort();
    expect(listed).toEqual(keys.filter((key) => client.nodeFor(key) !== 'n2').sort());
  });

  it('on nodes no client has used, says so and writes no record of its own', async () => {
    await c.start(2);
    const exit = await runCli(['locks', '--nodes', addresses()]);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toMatch(/no node has a cluster record under keyPrefix "shardlock:"/);
    expect(exit.stdout).toContain('no lock is held');
    for (const node of c.nodes) expect(await c.raw(node).keys('*')).toEqual([]);
  });
});

describe('shardlock inspect', () => {
  it('shows holder, lease, fence and node state, as JSON and as a table', async () => {
    await c.start(3);
    const client = await app();
    const lock = await client.acquire('order:42', { ttl: 30_000 });
    const owner = client.nodeFor('order:42');
    const json = await runCli(['inspect', 'order:42', '--nodes', addresses(), '--json']);
    expect(json.code).toBe(0);
    const seen = JSON.parse(json.stdout) as {
      held: boolean;
      fingerprint: string;
      ttl: number;
      lastFence: string;
      nodes: { nodeId: string; state: string; held: boolean }[];
    };
    expect(seen).toMatchObject({
      held: true,
      fingerprint: fingerprintOf(lock.token),
      lastFence: String(lock.fence),
    });
    expect(seen.ttl).toBeGreaterThan(25_000);
    expect(seen.nodes).toMatchObject([{ nodeId: owner, held: true }]);
    expect(json.stdout).not.toContain(lock.token);
    const table = await runCli(['inspect', 'order:42', '--nodes', addresses()]);
    expect(table.stdout).toMatch(
      new RegExp(
        `^order:42 is held by ${fingerprintOf(lock.token)} for (?:2\\d\\.\\d|30\\.0) s more; last fence issued ${lock.fence}\\n`,
      ),
    );
    const free = await runCli(['inspect', 'order:43', '--nodes', addresses()]);
    expect(free.code).toBe(0);
    expect(free.stdout).toMatch(/^order:43 is not held/);
  });

  it('quorum mode: the key’s three replicas, held on a majority', async () => {
    await c.start(5);
    const client = await app({ replicas: 3 });
    const lock = await client.acquire('q-key', { ttl: 30_000 });
    const exit = await runCli(['inspect', 'q-key', '--nodes', addresses(), '--json']);
    expect(exit.code).toBe(0);
    const seen = JSON.parse(exit.stdout) as {
      held: boolean;
      replicas: number;
      fingerprint: string;
      nodes: { held: boolean }[];
    };
    expect(seen).toMatchObject({ held: true, replicas: 3, fingerprint: fingerprintOf(lock.token) });
    expect(seen.nodes.map((n) => n.held)).toEqual([true, true, false]);
    const table = await runCli(['inspect', 'q-key', '--nodes', addresses()]);
    expect(table.stdout).toContain('(quorum of 3 replicas)');
  });
});

describe('shardlock unlock', () => {
  it('refuses without --yes when stdin is no terminal, and deletes with it', async () => {
    await c.start(2);
    const client = await app();
    const lock = await client.acquire('stuck', { ttl: 30_000 });
    const refused = await spawnCli(['unlock', 'stuck', '--nodes', addresses()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^shardlock: refusing to delete a lock without --yes: stdin is not a terminal/,
    );
    await lock.extend();
    const done = await spawnCli(['unlock', 'stuck', '--nodes', addresses(), '--yes']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^stuck: lock deleted/);
    expect(done.stdout).toMatch(
      new RegExp(
        `\\| ${client.nodeFor('stuck')} +\\| 127\\.0\\.0\\.1:\\d+ +\\| deleted +\\| ${fingerprintOf(lock.token)} `,
      ),
    );
    await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
    const again = await spawnCli(['unlock', 'stuck', '--nodes', addresses(), '--yes']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('stuck is not held: nothing deleted');
  });

  it('asks on a terminal: no keeps the lock, yes deletes only the holder it showed', async () => {
    await c.start(2);
    const client = await app();
    const lock = await client.acquire('ask', { ttl: 30_000 });
    const fp = fingerprintOf(lock.token);
    const no = await runCli(['unlock', 'ask', '--nodes', addresses()], { tty: true, answer: 'n' });
    expect(no.stderr).toMatch(
      new RegExp(`^ask: held by ${fp} on ${client.nodeFor('ask')} for \\d+\\.\\d s more\\.`),
    );
    expect(no.stderr).toContain('Delete it?');
    expect(no.code).toBe(3);
    await lock.extend();
    const yes = await runCli(['unlock', 'ask', '--nodes', addresses(), '--json'], {
      tty: true,
      answer: 'yes',
    });
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.stdout)).toMatchObject({
      key: 'ask',
      released: true,
      nodes: [{ outcome: 'deleted', fingerprint: fp }],
    });
    await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
    // The lock changes hands while the question waits: the yes was for the holder shown.
    const first = await client.acquire('ask', { ttl: 30_000 });
    let second: Lock | undefined;
    const late = await runCli(['unlock', 'ask', '--nodes', addresses()], {
      tty: true,
      answer: async () => {
        await first.release();
        second = await client.acquire('ask', { ttl: 30_000 });
        return 'y';
      },
    });
    expect(late.code).toBe(3);
    expect(late.stdout).toMatch(/^ask: nothing deleted/);
    expect(late.stdout).toContain(`| kept    | ${fingerprintOf(second!.token)}`);
    await second!.extend();
  });

  it('with --fingerprint, deletes only that holder’s lock; a bad one is refused before anything is sent', async () => {
    await c.start(1);
    const client = await app();
    const lock = await client.acquire('fp', { ttl: 30_000 });
    const other = await runCli([
      'unlock',
      'fp',
      '--nodes',
      addresses(),
      '--yes',
      '--fingerprint',
      'deadbeef',
    ]);
    expect(other.code).toBe(3);
    expect(other.stderr).toContain(
      `fp is held by ${fingerprintOf(lock.token)}, not deadbeef: nothing deleted`,
    );
    expect(await c.raw(c.nodes[0]!).exists(lockKey('fp'))).toBe(1);
    const bad = await runCli([
      'unlock',
      'fp',
      '--nodes',
      addresses(),
      '--yes',
      '--fingerprint',
      'xyz',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^shardlock: --fingerprint takes 8 hex characters/);
    const right = await runCli([
      'unlock',
      'fp',
      '--nodes',
      addresses(),
      '--yes',
      '--fingerprint',
      fingerprintOf(lock.token).toUpperCase(),
    ]);
    expect(right.code).toBe(0);
    expect(await c.raw(c.nodes[0]!).exists(lockKey('fp'))).toBe(0);
  });

  it('quorum mode: deletes on the majority that holds it', async () => {
    await c.start(3);
    const client = await app({ replicas: 3 });
    const lock = await client.acquire('q', { ttl: 30_000 });
    const exit = await runCli(['unlock', 'q', '--nodes', addresses(), '--yes', '--json']);
    expect(exit.code).toBe(0);
    const result = JSON.parse(exit.stdout) as { nodes: { outcome: string }[] };
    expect(result.nodes.map((n) => n.outcome).sort()).toEqual(['absent', 'deleted', 'deleted']);
    await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
  });
});

describe('where the command finds its nodes', () => {
  it('--config (the applications’ own file), SHARDLOCK_NODES, and ids given as id=host:port', async () => {
    await c.start(2);
    const client = await app();
    const lock = await client.acquire('cfg', { ttl: 30_000 });
    const dir = mkdtempSync(join(tmpdir(), 'shardlock-cli-'));
    try {
      const file = join(dir, 'shardlock.json');
      const nodes = c.nodes.map((n, i) => ({ id: `n${i}`, port: n.port }));
      writeFileSync(file, JSON.stringify({ nodes, maxTtl: 60_000, restartQuarantine: false }));
      const fromFile = await runCli(['inspect', 'cfg', '--config', file, '--json']);
      const fromEnvFile = await runCli(['inspect', 'cfg', '--json'], {
        env: { SHARDLOCK_CONFIG: file },
      });
      const named = c.nodes.map((n, i) => `n${i}=127.0.0.1:${n.port}`).join(',');
      const fromEnv = await runCli(['inspect', 'cfg', '--json'], {
        env: { SHARDLOCK_NODES: named },
      });
      for (const exit of [fromFile, fromEnvFile, fromEnv]) {
        expect(exit.code).toBe(0);
        expect(JSON.parse(exit.stdout)).toMatchObject({
          held: true,
          fingerprint: fingerprintOf(lock.token),
        });
      }
      writeFileSync(file, '{ nodes: ');
      const broken = await runCli(['locks', '--config', file]);
      expect(broken.code).toBe(2);
      expect(broken.stderr).toMatch(/^shardlock locks: --config .* is not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('settings that disagree with the cluster’s record: one line naming the node and setting, exit 2', async () => {
    await c.start(1);
    await app({ maxTtl: 5_000 });
    const exit = await runCli(['inspect', 'k', '--nodes', `n0=127.0.0.1:${c.nodes[0]!.port}`], {
      env: { SHARDLOCK_CONFIG: '' },
    });
    expect(exit.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'shardlock-cli-'));
    try {
      const file = join(dir, 'shardlock.json');
      writeFileSync(
        file,
        JSON.stringify({ nodes: [{ id: 'n0', port: c.nodes[0]!.port }], maxTtl: 9_000 }),
      );
      const wrong = await runCli(['inspect', 'k', '--config', file]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^shardlock: maxTtl is 9000 here but 5000 in the cluster's record on node "n0"/,
        ),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the command line itself', () => {
  it('--help on each subcommand, usage errors exit 2, no nodes exit 2', async () => {
    for (const name of ['locks', 'inspect', 'unlock', 'nodes', 'ring']) {
      const help = await runCli([name, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: shardlock ${name}`));
      expect(help.stdout).toContain('--nodes LIST');
    }
    const overview = await spawnCli(['--help']);
    expect(overview.code).toBe(0);
    expect(overview.stdout).toMatch(/Exit codes: 0 done; 1 a node could not be reached/);
    const flag = await spawnCli(['locks', '--nodes', '127.0.0.1:1', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^shardlock locks: Unknown option '--bogus'/);
    const none = await spawnCli(['nodes'], { env: { SHARDLOCK_NODES: '', SHARDLOCK_CONFIG: '' } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^shardlock nodes: give the nodes/);
    const key = await runCli(['inspect', '--nodes', '127.0.0.1:1']);
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/^shardlock inspect: inspect takes 1 KEY, received 0/);
  });
});
