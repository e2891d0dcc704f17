import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import {
  HarnessError,
  RedisNode,
  makeSelfSignedCert,
  nodeSpecs,
  startNodes,
  stopAllNodes,
} from '../harness/index.js';
import type { TlsFiles } from '../harness/index.js';

// ioredis 6 declares `RedisOptions.replyMapping` as `… | undefined` but its constructor takes
// `replyMapping?: …`, which exactOptionalPropertyTypes rejects; these tests never set it.
type ClientOptions = Omit<RedisOptions, 'replyMapping'>;

const clients = new Set<Redis>();
/** The 'error' events each client emitted, e.g. the socket error behind a failed connect(). */
const clientErrors = new WeakMap<Redis, unknown[]>();
const pidsSeen = new Set<number>();
let tlsFiles: TlsFiles | undefined;

/** Remembers a node's current pid, so afterAll can check every process we ever had is gone. */
function track(node: RedisNode): RedisNode {
  pidsSeen.add(node.pid);
  return node;
}

/**
 * A fail-fast client of `url` (default: the node's own), not connected yet: no offline
 * queue, no retries, no reconnects.
 */
function client(node: RedisNode, options: ClientOptions = {}, url = node.url): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    ...options,
  });
  const errors: unknown[] = [];
  clientErrors.set(redis, errors);
  redis.on('error', (error: unknown) => errors.push(error));
  clients.add(redis);
  return redis;
}

/** Connects and expects the attempt to be refused: nothing listens on the node's port. */
async function expectRefused(node: RedisNode): Promise<void> {
  const redis = client(node);
  await expect(redis.connect()).rejects.toThrow();
  expect(clientErrors.get(redis)).toContainEqual(expect.objectContaining({ code: 'ECONNREFUSED' }));
}

/** A connected fail-fast client. */
async function connected(node: RedisNode, options: ClientOptions = {}): Promise<Redis> {
  const redis = client(node, options);
  await redis.connect();
  return redis;
}

// A client that means to stay unauthenticated must skip two ioredis 6 handshake steps that a
// server wanting a login answers with NOAUTH, which ioredis treats as fatal: the RESP3
// `HELLO 3` it sends by default, and the ready check's INFO.
const ANONYMOUS: ClientOptions = { protocol: 2, enableReadyCheck: false };

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(info)?.[1]?.trim();
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  for (const redis of clients) redis.disconnect();
  clients.clear();
});

afterAll(async () => {
  await stopAllNodes();
  if (tlsFiles !== undefined) await rm(tlsFiles.dir, { recursive: true, force: true });
  expect(pidsSeen.size).toBeGreaterThan(0);
  expect([...pidsSeen].filter(isProcessAlive)).toEqual([]);
});

describe('startNodes', () => {
  it('starts three servers, each answering on its own port as the process the node names', async () => {
    const nodes = (await startNodes(3)).map(track);

    expect(new Set(nodes.map((n) => n.port)).size).toBe(3);
    expect(nodeSpecs(nodes)).toEqual(
      nodes.map((n, i) => ({ id: `n${String(i)}`, host: '127.0.0.1', port: n.port })),
    );
    expect(nodeSpecs(nodes, 'r').map((s) => s.id)).toEqual(['r0', 'r1', 'r2']);
    for (const node of nodes) {
      expect(node.url).toBe(`redis://127.0.0.1:${String(node.port)}`);
      const redis = await connected(node);
      expect(await redis.ping()).toBe('PONG');
      const info = await redis.info('server');
      expect(infoField(info, 'tcp_port')).toBe(String(node.port));
      expect(infoField(info, 'process_id')).toBe(String(node.pid));
      expect(infoField(info, 'redis_version')).toBe(inject('redisServerVersion'));
      // The harness runs servers without persistence.
      expect(await redis.config('GET', 'save')).toEqual(['save', '']);
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    }
  });
});

describe('start failures', () => {
  it('a taken port fails with the server output, after retries, leaving the holder alone', async () => {
    const holder = track(await RedisNode.start());

    const error: unknown = await RedisNode.start({ port: holder.port }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HarnessError);
    expect(error).toMatchObject({ code: 'ERR_REDIS_EXITED', port: holder.port });
    expect(String(error)).toMatch(/Address already in use/);
    expect(await (await connected(holder)).ping()).toBe('PONG');
  });

  it('a bad directive fails at once with the server output', async () => {
    await expect(RedisNode.start({ args: ['--no-such-directive', 'x'] })).rejects.toMatchObject({
      code: 'ERR_REDIS_EXITED',
      message: expect.stringMatching(/Bad directive/) as unknown,
    });
    await expect(startNodes(2, { port: 1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});

describe('RedisNode faults', () => {
  it('kill() ends the process and the port refuses connections', async () => {
    const node = track(await RedisNode.start());
    const before = await connected(node);
    expect(await before.ping()).toBe('PONG');
    const { pid } = node;

    await node.kill();

    expect(node.isAlive()).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await expect(before.ping()).rejects.toThrow();
    await expectRefused(node);
    expect(() => {
      node.pause();
    }).toThrow(expect.objectContaining({ code: 'ERR_REDIS_NOT_RUNNING' }));
  });

  it('restartEmpty() comes back on the same port as a new, empty server', async () => {
    const node = track(await RedisNode.start());
    const { port, pid } = node;
    const before = await connected(node);
    await before.set('survives', 'no');
    const runIdBefore = infoField(await before.info('server'), 'run_id');

    await node.restartEmpty();
    track(node);

    expect(node.port).toBe(port);
    expect(node.pid).not.toBe(pid);
    expect(isProcessAlive(pid)).toBe(false);
    const after = await connected(node);
    expect(infoField(await after.info('server'), 'run_id')).toMatch(/^[0-9a-f]{40}$/);
    expect(infoField(await after.info('server'), 'run_id')).not.toBe(runIdBefore);
    expect(await after.get('survives')).toBeNull();
    expect(await after.dbsize()).toBe(0);
  });

  it('pause() makes commands time out and resume() makes them answer again', async () => {
    const node = track(await RedisNode.start());
    const redis = await connected(node, { commandTimeout: 300 });
    expect(await redis.ping()).toBe('PONG');

    node.pause();
    expect(node.isAlive()).toBe(true);
    await expect(redis.ping()).rejects.toThrow(/timed out/i);

    node.resume();
    expect(await redis.ping()).toBe('PONG');
  });

  it('stop() ends even a paused server', async () => {
    const node = track(await RedisNode.start());
    node.pause();

    await node.stop();

    expect(node.isAlive()).toBe(false);
    expect(isProcessAlive(node.pid)).toBe(false);
    await expectRefused(node);
  });
});

describe('RedisNode authentication and TLS', () => {
  it('a password node rejects a client without the password and accepts the right one', async () => {
    const node = track(await RedisNode.start({ password: 's3cret pass' }));

    const anonymous = await connected(node, ANONYMOUS);
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
    await expect(anonymous.auth('wrong')).rejects.toThrow(/WRONGPASS/);

    const authed = await connected(node, { password: 's3cret pass' });
    expect(await authed.ping()).toBe('PONG');
  });

  it('an ACL node accepts its users and has the default user switched off', async () => {
    const users = [
      { name: 'alice', password: 'alice-pw' },
      { name: 'bob', password: 'bob-pw' },
    ];
    const node = track(await RedisNode.start({ users }));

    for (const user of users) {
      const redis = await connected(node, { username: user.name, password: user.password });
      expect(await redis.call('ACL', 'WHOAMI')).toBe(user.name);
      expect(await redis.set(`key:${user.name}`, '1')).toBe('OK');
    }

    const anonymous = await connected(node, ANONYMOUS);
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
    await expect(anonymous.auth('default', 'alice-pw')).rejects.toThrow(/WRONGPASS/);
    await expect(anonymous.auth('alice', 'bob-pw')).rejects.toThrow(/WRONGPASS/);
    expect(await anonymous.auth('alice', 'alice-pw')).toBe('OK');
  });

  it('a TLS node serves rediss:// with the harness CA and nothing in plain text', async () => {
    tlsFiles = await makeSelfSignedCert();
    const node = track(await RedisNode.start({ tls: tlsFiles }));
    expect(node.url).toBe(`rediss://127.0.0.1:${String(node.port)}`);

    const secure = await connected(node, { tls: { ca: readFileSync(tlsFiles.ca) } });
    expect(await secure.ping()).toBe('PONG');
    expect(infoField(await secure.info('server'), 'process_id')).toBe(String(node.pid));

    const plain = client(node, { commandTimeout: 500 }, `redis://127.0.0.1:${String(node.port)}`);
    await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
  });
});
