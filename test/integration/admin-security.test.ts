import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fingerprintOf,
  LockClient,
  LockLostError,
  NodePermissionError,
  type LockListEntry,
} from '@shardlock/core';
import { makeSelfSignedCert, RedisNode, stopAllNodes, type TlsFiles } from '../harness/index.js';
import { runCli, spawnCli } from '../support/cli.js';
import { LOCK_USER_RULE } from '../support/acl.js';

// The operator's calls and the `shardlock` command with an ACL user and password, and over
// TLS, against real redis-server processes.

const tlsDirs: TlsFiles[] = [];
afterAll(async () => {
  await stopAllNodes();
  for (const tls of tlsDirs) rmSync(tls.dir, { recursive: true, force: true });
});

async function collect(iterator: AsyncIterable<LockListEntry>): Promise<LockListEntry[]> {
  const entries: LockListEntry[] = [];
  for await (const entry of iterator) entries.push(entry);
  return entries;
}

describe('an ACL user with a password', () => {
  it('the lock rule plus SCAN (the operator rule) can inspect, list, unlock and describe', async () => {
    const nodes = await Promise.all(
      [0, 1].map(() =>
        RedisNode.start({
          args: [
            '--user',
            'ops',
            'on',
            '>ops-pw',
            ...LOCK_USER_RULE,
            '+scan',
            '--user',
            'default',
            'off',
          ],
        }),
      ),
    );
    const client = new LockClient({
      restartQuarantine: false,
      maxTtl: 60_000,
      nodes: nodes.map((node, i) => ({ id: `a${i}`, port: node.port })),
      redis: { username: 'ops', password: 'ops-pw' },
    });
    try {
      await client.ready();
      const lock = await client.acquire('acl-key', { ttl: 30_000 });
      expect((await client.inspect('acl-key')).fingerprint).toBe(fingerprintOf(lock.token));
      const listed = await collect(client.locks());
      expect(listed).toMatchObject([{ kind: 'lock', key: 'acl-key' }]);
      const list = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
      const env = { SHARDLOCK_PASSWORD: 'ops-pw' };
      // As a process: the password from the environment, never on the command line.
      const locks = await spawnCli(['locks', '--nodes', list, '--username', 'ops', '--json'], {
        env,
      });
      expect(locks.code).toBe(0);
      expect(JSON.parse(locks.stdout)).toMatchObject({ total: 1, locks: [{ key: 'acl-key' }] });
      const seen = await runCli(
        ['inspect', 'acl-key', '--nodes', list, '--username', 'ops', '--json'],
        { env },
      );
      expect(JSON.parse(seen.stdout)).toMatchObject({
        held: true,
        fingerprint: fingerprintOf(lock.token),
      });
      const described = await runCli(['nodes', '--nodes', list, '--username', 'ops', '--json'], {
        env,
      });
      const rows = (
        JSON.parse(described.stdout) as { nodes: { id: string; lockKeys: number; runId: string }[] }
      ).nodes;
      expect(rows.map((r) => r.id)).toEqual(['a0', 'a1']);
      expect(rows.reduce((sum, r) => sum + r.lockKeys, 0)).toBe(1);
      expect(rows.every((r) => /^\w{40}$/.test(r.runId))).toBe(true);
      const unlocked = await runCli(
        ['unlock', 'acl-key', '--nodes', list, '--username', 'ops', '--yes'],
        { env },
      );
      expect(unlocked.code).toBe(0);
      await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
      await lock.release();
    } finally {
      await client.close();
    }
  });

  it('without SCAN: a listing reports the node’s missing permission by name; inspect still works', async () => {
    const node = await RedisNode.start({
      args: ['--user', 'locker', 'on', '>pw', ...LOCK_USER_RULE, '--user', 'default', 'off'],
    });
    const client = new LockClient({
      restartQuarantine: false,
      nodes: [{ id: 's0', port: node.port }],
      redis: { username: 'locker', password: 'pw' },
    });
    try {
      await client.acquire('k');
      const [entry] = await collect(client.locks());
      expect(entry).toMatchObject({ kind: 'error', nodeId: 's0' });
      const error = entry?.kind === 'error' ? entry.error : undefined;
      expect(error).toBeInstanceOf(NodePermissionError);
      expect((error as NodePermissionError).command).toBe('scan');
      expect((await client.inspect('k')).held).toBe(true);
      const exit = await runCli([
        'locks',
        '--nodes',
        `127.0.0.1:${node.port}`,
        '--username',
        'locker',
        '--password',
        'pw',
      ]);
      expect(exit.code).toBe(1);
      expect(exit.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^shardlock: node "s0" \(127\.0\.0\.1:\d+\) refused to list locks: its Redis user may not run SCAN/,
        ),
      ]);
    } finally {
      await client.close();
    }
  });

  it('a wrong password: one line naming the node and the server’s refusal, exit 1', async () => {
    const node = await RedisNode.start({ users: [{ name: 'ops', password: 'right' }] });
    const exit = await runCli(
      ['inspect', 'k', '--nodes', `w0=127.0.0.1:${node.port}`, '--username', 'ops'],
      {
        env: { SHARDLOCK_PASSWORD: 'wrong' },
      },
    );
    expect(exit.code).toBe(1);
    expect(exit.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^shardlock: node "w0" \(127\.0\.0\.1:\d+\) failed: WRONGPASS/),
    ]);
    // It may hold the key: no "not held".
    expect(exit.stdout).toBe('');
    const nodes = await runCli([
      'nodes',
      '--nodes',
      `w0=127.0.0.1:${node.port}`,
      '--username',
      'ops',
      '--password',
      'wrong',
      '--json',
    ]);
    expect(nodes.code).toBe(1);
    expect(nodes.stdout).toMatch(/"code": "unreachable",\s+"message": "WRONGPASS/);
  });
});

describe('TLS', () => {
  it('the operator’s calls and the command over rediss:// with the nodes’ CA', async () => {
    const tls = await makeSelfSignedCert();
    tlsDirs.push(tls);
    const nodes = await Promise.all([0, 1].map(() => RedisNode.start({ tls })));
    const client = new LockClient({
      restartQuarantine: false,
      maxTtl: 60_000,
      nodes: nodes.map((node, i) => ({ id: `t${i}`, url: `rediss://127.0.0.1:${node.port}` })),
      redis: { tls: { ca: readFileSync(tls.ca), servername: 'localhost' } },
    });
    try {
      const lock = await client.acquire('tls-key', { ttl: 30_000 });
      expect((await client.inspect('tls-key')).held).toBe(true);
      expect((await collect(client.locks())).map((e) => e.kind)).toEqual(['lock']);
      const list = nodes.map((n) => `rediss://127.0.0.1:${n.port}`).join(',');
      const flags = ['--nodes', list, '--tls-ca', tls.ca, '--tls-servername', 'localhost'];
      const seen = await spawnCli(['inspect', 'tls-key', ...flags, '--json']);
      expect(seen.code).toBe(0);
      expect(JSON.parse(seen.stdout)).toMatchObject({
        held: true,
        fingerprint: fingerprintOf(lock.token),
      });
      const described = await runCli(['nodes', ...flags, '--json']);
      expect(described.stdout).not.toContain('unreachable');
      const unlocked = await runCli(['unlock', 'tls-key', ...flags, '--yes']);
      expect(unlocked.code).toBe(0);
      expect((await client.forceRelease('tls-key')).released).toBe(false);
      // Without the CA the certificate is refused: the node's error names the cause.
      const untrusted = await runCli([
        'locks',
        '--nodes',
        `u0=rediss://127.0.0.1:${nodes[0]!.port}`,
      ]);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(
        /^shardlock: node "u0" \(127\.0\.0\.1:\d+\) .*(self-signed|certificate)/m,
      );
    } finally {
      await client.close();
    }
  });
});
