import type { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { LockClient, type LockClientEvents, type LockClientOptions } from '@shardlock/core';
import {
  nodeSpecs,
  startNodes,
  stopAllNodes,
  type RedisNode,
  type RedisNodeOptions,
} from '../../harness/index.js';
import { inspect, until } from '../../support/redis.js';

// Shared by the regression tests of the safety review (one file per group of defects). Every
// test starts its own nodes: a client may keep a record on the nodes it meets, so nodes are
// never shared between tests.

/** Fast failure detection, as core-membership.test.ts uses. */
export const FAST = {
  maxTtl: 300,
  defaultTtl: 300,
  healthCheckInterval: 50,
  failureThreshold: 2,
  commandTimeout: 100,
} as const;

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** The Redis key of lock `key` (default keyPrefix). */
export const lockKey = (key: string): string => `shardlock:lock:${key}`;

/** The first `prefix:i` key the predicate accepts. */
export function keyWhere(prefix: string, accept: (key: string) => boolean): string {
  for (let i = 0; i < 100_000; i++) if (accept(`${prefix}:${i}`)) return `${prefix}:${i}`;
  throw new Error(`no ${prefix} key found`);
}

/** The node index of a harness id `n<i>`. */
export const index = (id: string): number => Number(id.slice(1));

/** The `code` of an error-like value, if it has one. */
export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** `name code: message` of a thrown value, for readable assertion output. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name} ${codeOf(error) ?? '-'}: ${error.message}`;
  return `non-error ${String(error)}`;
}

/** How a promise settled within a bound. */
export type Outcome<T> =
  | { readonly kind: 'value'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout' };

/** Settles `promise` or gives up after `ms` (a hang then fails the test cleanly). */
export function outcome<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
  });
  const settled = promise.then(
    (value): Outcome<T> => ({ kind: 'value', value }),
    (error: unknown): Outcome<T> => ({ kind: 'error', error }),
  );
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

/** The thrown value of `run`, or `undefined` when it returned. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * `client.ready()`, which the fix adds. CAST: the method does not exist on today's
 * `LockClient`; the call rejects with a TypeError there.
 */
export async function ready(client: LockClient): Promise<void> {
  await (client as unknown as { ready(): Promise<void> }).ready();
}

/** Every payload `client` emits as `name` from now on. */
export function events<E extends keyof LockClientEvents>(
  client: LockClient,
  name: E,
): LockClientEvents[E][0][] {
  const seen: LockClientEvents[E][0][] = [];
  const listener = (...args: LockClientEvents[E]): void => void seen.push(args[0]);
  client.on(name, listener as never);
  return seen;
}

/** How many EVAL/EVALSHA calls reached the connection's node since its last CONFIG RESETSTAT. */
export async function scriptCalls(connection: Redis): Promise<number> {
  const info = await connection.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval|eval_ro|evalsha_ro):calls=(\d+)/gm))
    total += Number(match[2]);
  return total;
}

/** The lock keys a node holds. */
export async function lockKeys(connection: Redis): Promise<string[]> {
  return (await connection.keys('shardlock:lock:*')).sort();
}

const upSeen = new WeakMap<LockClient, Set<string>>();

/**
 * Waits until every node of `client` has had its first contact: `ready()` where it exists;
 * on today's code (no `ready()`), until each node was reported up.
 */
export async function connected(client: LockClient, timeout = 5_000): Promise<void> {
  const method = (client as unknown as { ready?: unknown }).ready;
  if (typeof method === 'function') {
    await (method as () => Promise<void>).call(client);
    return;
  }
  const seen = upSeen.get(client) ?? new Set<string>();
  await until(() => client.stats().every((s) => seen.has(s.id)), timeout);
}

/** Nodes, clients and raw connections of one test, all cleaned up after it. */
export interface Cluster {
  /** Every node started by `start()` in this test, in order (ids `n0`, `n1`, …). */
  readonly nodes: RedisNode[];
  /** Starts `count` more nodes. */
  start(count: number, options?: RedisNodeOptions): Promise<RedisNode[]>;
  /**
   * A client over every node started so far, with FAST options and `restartQuarantine: false`
   * (the harness starts these nodes empty) unless `options` says otherwise.
   */
  client(options?: Partial<LockClientOptions>): LockClient;
  /** A client with exactly these options (no defaults added); listeners attached. */
  bare(options: LockClientOptions): LockClient;
  /** Constructs a client; returns what the constructor threw, or `undefined` (then it is closed after the test). */
  construct(options: LockClientOptions): unknown;
  /** A plain ioredis connection to a node, for checking what it holds. */
  raw(node: RedisNode, extra?: Record<string, unknown>): Redis;
}

/** Registers the after-each cleanup of a file's tests and returns their cluster. */
export function useCluster(): Cluster {
  const clients: LockClient[] = [];
  const connections: Redis[] = [];
  const nodes: RedisNode[] = [];
  const bare = (options: LockClientOptions): LockClient => {
    const made = new LockClient(options);
    made.on('nodeError', () => undefined);
    made.on('backgroundError', () => undefined);
    const seen = new Set<string>();
    made.on('nodeUp', (event) => seen.add(event.nodeId));
    upSeen.set(made, seen);
    clients.push(made);
    return made;
  };
  const cluster: Cluster = {
    nodes,
    async start(count, options = {}) {
      const started = await startNodes(count, options);
      nodes.push(...started);
      return started;
    },
    client(options = {}) {
      return bare({ nodes: nodeSpecs(nodes), restartQuarantine: false, ...FAST, ...options });
    },
    bare,
    construct(options) {
      try {
        bare(options);
        return undefined;
      } catch (error) {
        return error;
      }
    },
    raw(node, extra = {}) {
      const connection = inspect(node.port, { retryStrategy: () => 50, ...extra });
      connection.on('error', () => undefined);
      connections.push(connection);
      return connection;
    },
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    connections.splice(0).forEach((c) => c.disconnect());
    nodes.length = 0;
    await stopAllNodes();
  });
  return cluster;
}
