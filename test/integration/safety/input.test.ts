import { describe, expect, it } from 'vitest';
import type { LockClient, LockClientOptions } from '@shardlock/core';
import { HashRing } from '@shardlock/ring';
import {
  codeOf,
  connected,
  describeError,
  scriptCalls,
  thrown,
  useCluster,
  type Cluster,
} from './helpers.js';

// Input the client must refuse before it sends anything: ids and keys that are not
// well-formed UTF-16 (docs/safety.md hazard 12), leases too short to ever be believed, and ioredis
// options the client owns. Review defects 2, 11 and 12.

const c: Cluster = useCluster();

/** `name code` of what a call threw, `constructed` when it did not throw. */
function refusal(error: unknown): string {
  return error === undefined ? 'constructed' : `${(error as Error).name} ${String(codeOf(error))}`;
}

/** What a call settled with: the error code, or how it succeeded. */
async function settle(run: () => Promise<unknown>): Promise<string> {
  return run().then(
    (value) => (value === null ? 'null' : 'succeeded'),
    (error: unknown) => codeOf(error) ?? describeError(error),
  );
}

/** A client over 2 fresh nodes, connected, with the nodes' command stats reset. */
async function quietClient(options: Partial<LockClientOptions> = {}): Promise<LockClient> {
  await c.start(2);
  const client = c.client(options);
  await connected(client);
  await Promise.all(c.nodes.map((node) => c.raw(node).config('RESETSTAT')));
  return client;
}

async function scriptCallsPerNode(): Promise<number[]> {
  return Promise.all(c.nodes.map((node) => scriptCalls(c.raw(node))));
}

describe('defect 2: ids and keys that are not well-formed UTF-16 alias', () => {
  it('LockClient refuses such node ids with ERR_INVALID_ARGUMENT', async () => {
    const [a, b] = await c.start(2);
    const lone = c.construct({ nodes: [{ id: 'n\uD800', port: a!.port }] });
    const pair = c.construct({
      nodes: [
        { id: 'n\uD800', port: a!.port },
        { id: 'n\uDC00', port: b!.port },
      ],
    });
    expect([refusal(lone), refusal(pair)]).toEqual([
      'InvalidArgumentError ERR_INVALID_ARGUMENT',
      'InvalidArgumentError ERR_INVALID_ARGUMENT',
    ]);
    // A well-formed pair (an emoji) is an ordinary id.
    expect(refusal(c.construct({ nodes: [{ id: 'n\uD83D\uDE00', port: a!.port }] }))).toBe(
      'constructed',
    );
  });

  it('HashRing refuses such node ids (ERR_RING_INVALID_NODE) and keys (ERR_RING_INVALID_KEY)', () => {
    const ring = new HashRing(['a', 'b', 'n\uD83D\uDE00']);
    const got = [
      thrown(() => new HashRing(['n\uD800'])),
      thrown(() => new HashRing(['n\uD800', 'n\uDC00'])),
      thrown(() => ring.owner('q\uD800')),
      thrown(() => ring.owner('q\uDC00')),
      thrown(() => ring.owner('q\uD83D\uDE00')),
    ].map((error) =>
      error === undefined ? 'ok' : `${(error as Error).name} ${String(codeOf(error))}`,
    );
    expect(got).toEqual([
      'RingError ERR_RING_INVALID_NODE',
      'RingError ERR_RING_INVALID_NODE',
      'RingError ERR_RING_INVALID_KEY',
      'RingError ERR_RING_INVALID_KEY',
      'ok',
    ]);
  });

  it('acquire, tryAcquire, withLock and acquireMany refuse such keys, sending nothing', async () => {
    const client = await quietClient();
    let ran = false;
    const got = [
      await settle(() => client.acquire('q\uD800')),
      await settle(() => client.tryAcquire('q\uDC00')),
      await settle(() =>
        client.withLock('q\uDFFF', () => {
          ran = true;
        }),
      ),
      // Two keys for the client, one Redis key (both encode as 'q\uFFFD').
      await settle(() => client.acquireMany(['q\uD800', 'q\uDC00'])),
      await settle(() => client.acquireMany(['fine', 'q\uDBFF'])),
    ];
    expect.soft(got).toEqual(Array.from({ length: 5 }, () => 'ERR_INVALID_ARGUMENT'));
    expect.soft(ran).toBe(false);
    expect(await scriptCallsPerNode(), 'script calls per node').toEqual([0, 0]);
    // A well-formed surrogate pair is an ordinary key.
    const emoji = await client.acquire('q\uD83D\uDE00');
    expect(await emoji.release()).toBe(true);
  });
});

describe('defect 11: ttl 1 and 2 can never be granted', () => {
  it('acquire, tryAcquire, withLock and acquireMany refuse them with ERR_INVALID_ARGUMENT naming the 3 ms minimum', async () => {
    const client = await quietClient({ maxTtl: 1_500, defaultTtl: 1_500 });
    /** The error code, and whether its message names 3 (ms) as the minimum. */
    const check = async (run: () => Promise<unknown>): Promise<string> =>
      run().then(
        () => 'succeeded',
        (error: unknown) =>
          `${String(codeOf(error))}${/\b3\b/.test((error as Error).message) ? ' naming 3' : ''}`,
      );
    const got = [
      await check(() => client.acquire('short', { ttl: 1 })),
      await check(() => client.acquire('short', { ttl: 2 })),
      await check(() => client.tryAcquire('short', { ttl: 2 })),
      await check(() => client.withLock('short', () => undefined, { ttl: 1 })),
      await check(() => client.acquireMany(['short', 'other'], { ttl: 2 })),
    ];
    expect.soft(got).toEqual(Array.from({ length: 5 }, () => 'ERR_INVALID_ARGUMENT naming 3'));
    expect(await scriptCallsPerNode(), 'script calls per node').toEqual([0, 0]);
  });

  it('the constructor refuses maxTtl and defaultTtl below 3 ms', async () => {
    const [node] = await c.start(1);
    const nodes = [{ id: 'n0', port: node!.port }];
    const got = [
      c.construct({ nodes, maxTtl: 1 }),
      c.construct({ nodes, maxTtl: 2 }),
      c.construct({ nodes, maxTtl: 1_500, defaultTtl: 2 }),
      c.construct({ nodes, maxTtl: 3 }),
    ].map(refusal);
    expect(got).toEqual([
      'InvalidArgumentError ERR_INVALID_ARGUMENT',
      'InvalidArgumentError ERR_INVALID_ARGUMENT',
      'InvalidArgumentError ERR_INVALID_ARGUMENT',
      'constructed',
    ]);
  });
});

describe('defect 12: ioredis options the client owns', () => {
  const OWNED: [string, Record<string, unknown>][] = [
    ['commandTimeout', { commandTimeout: 5_000 }],
    ['commandTimeout', { commandTimeout: undefined }], // present, though undefined
    ['retryStrategy', { retryStrategy: () => null }],
    ['enableOfflineQueue', { enableOfflineQueue: true }],
    ['maxRetriesPerRequest', { maxRetriesPerRequest: 20 }],
    ['autoResendUnfulfilledCommands', { autoResendUnfulfilledCommands: true }],
    ['lazyConnect', { lazyConnect: true }],
    ['keyPrefix', { keyPrefix: 'other:' }],
    ['host', { host: '127.0.0.2' }],
    ['port', { port: 1 }],
  ];
  const cases = OWNED.flatMap(([name, redis]) => {
    const label = `${name}: ${String(redis[name])}`;
    return [
      ['client-wide', label, name, redis] as const,
      ['per node', label, name, redis] as const,
    ];
  });

  it.each(cases)(
    'refuses %s redis { %s } with ERR_INVALID_ARGUMENT naming it',
    async (where, _label, name, redis) => {
      const [node] = await c.start(1);
      const options: LockClientOptions =
        where === 'client-wide'
          ? { nodes: [{ id: 'n0', port: node!.port }], redis }
          : { nodes: [{ id: 'n0', port: node!.port, redis }] };
      const error = c.construct(options);
      expect(refusal(error)).toBe('InvalidArgumentError ERR_INVALID_ARGUMENT');
      expect((error as Error).message).toContain(name);
    },
  );

  it('still accepts the options it does not own', async () => {
    const [node] = await c.start(1);
    const redis = { connectTimeout: 2_000, db: 0 };
    expect(
      [
        c.construct({ nodes: [{ id: 'n0', port: node!.port }], redis }),
        c.construct({ nodes: [{ id: 'n0', port: node!.port, redis }] }),
      ].map(refusal),
    ).toEqual(['constructed', 'constructed']);
  });
});
