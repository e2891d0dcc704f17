import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkProxy, RedisNode, stopAllNodes } from '../harness/index.js';
import { inspect, until } from '../support/redis.js';

// The link proxy that cuts one client's link to one node (test/harness/link-proxy.ts): each
// mode checked against a real redis-server, reading the server directly beside the proxy.

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
  await stopAllNodes();
});

async function setup(): Promise<{ node: RedisNode; proxy: LinkProxy; via: Redis; direct: Redis }> {
  const node = await RedisNode.start();
  const proxy = await LinkProxy.start({ port: node.port });
  const via = new Redis({
    port: proxy.port,
    commandTimeout: 150,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 20,
  });
  // A reset link makes ioredis emit 'error'; the tests read outcomes from the commands.
  const errors: unknown[] = [];
  via.on('error', (error: unknown) => errors.push(error));
  const direct = inspect(node.port);
  opened.push({ close: () => via.disconnect() }, { close: () => direct.disconnect() }, proxy);
  await via.ping();
  return { node, proxy, via, direct };
}

/** How `promise` settled: its value, or the error's message. */
const settle = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => value,
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );

describe('LinkProxy', () => {
  it('passes commands and replies through, one connection per client', async () => {
    const { proxy, via, direct } = await setup();
    expect(await via.set('k', 'v')).toBe('OK');
    expect(await direct.get('k')).toBe('v');
    expect(proxy.connections).toBe(1);
  });

  it('blackhole up: the command never reaches the server until the link heals, then runs late', async () => {
    const { proxy, via, direct } = await setup();
    proxy.set('up', 'blackhole');
    expect(await settle(via.set('late', '1'))).toBe('Command timed out');
    expect(await direct.exists('late')).toBe(0);
    proxy.heal();
    await until(async () => (await direct.exists('late')) === 1, 2_000);
    expect(await via.get('late')).toBe('1');
  });

  it('blackhole down: the command runs on the server, its reply never arrives', async () => {
    const { proxy, via, direct } = await setup();
    proxy.set('down', 'blackhole');
    expect(await settle(via.set('ran', '1'))).toBe('Command timed out');
    expect(await direct.get('ran')).toBe('1');
    proxy.heal();
    expect(await via.get('ran')).toBe('1');
  });

  it('delay: replies arrive no sooner than the delay, in order', async () => {
    const { proxy, via } = await setup();
    proxy.set('down', 'delay', 60);
    const started = performance.now();
    const replies = await Promise.all([via.incr('n'), via.incr('n'), via.incr('n')]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(replies).toEqual([1, 2, 3]);
  });

  it('refuse: open connections are reset, new ones closed, until accept', async () => {
    const { proxy, via } = await setup();
    proxy.refuse();
    await until(() => via.status !== 'ready', 2_000);
    expect(await settle(via.ping())).not.toBe('PONG');
    expect(proxy.connections).toBe(0);
    proxy.accept();
    await until(() => via.status === 'ready', 2_000);
    expect(await via.ping()).toBe('PONG');
  });

  it('refuses a bad delay with a HarnessError', async () => {
    const { proxy } = await setup();
    expect(() => proxy.set('up', 'delay', -1)).toThrow(/bad delay -1/);
    expect(() => proxy.set('up', 'delay', 1.5)).toThrow(/bad delay/);
  });
});
