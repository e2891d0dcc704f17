import { Redis, type RedisOptions } from 'ioredis';
import type { UserRedisOptions } from '@shardlock/core';
import { parseRecord, type ClusterRecord } from '@shardlock/core/internal';
import type { NodeRef } from './cluster-input.js';

/** What one node said when the command met it, before any lock client was made. */
export interface NodeFacts {
  readonly ref: NodeRef;
  /** Why it could not be read (connection refused, wrong password, …); the rest is then absent. */
  readonly error: string | undefined;
  /** The fastest of three PINGs, ms. */
  readonly roundTripMs: number | undefined;
  readonly runId: string | undefined;
  readonly uptimeSeconds: number | undefined;
  readonly redisVersion: string | undefined;
  /** `used_memory`, bytes. */
  readonly usedMemory: number | undefined;
  /** `maxmemory`, bytes; 0: no limit. */
  readonly maxmemory: number | undefined;
  readonly policy: string | undefined;
  /** The cluster's record on the node; `undefined` when it has none (or it could not be read). */
  readonly record: ClusterRecord | undefined;
  /** Lock keys under the prefix (a full SCAN), when asked for; `undefined` if not counted. */
  readonly lockKeys: number | undefined;
  /** Why the lock keys could not be counted (an ACL without SCAN). */
  readonly lockKeysError: string | undefined;
}

/** How to meet the nodes. */
export interface DiscoverOptions {
  readonly keyPrefix: string;
  /** The client-wide ioredis options (credentials, TLS). */
  readonly redis: UserRedisOptions;
  /** Count the lock keys with SCAN (for `nodes`). */
  readonly countLocks: boolean;
  /** ms to wait for a connection. */
  readonly connectTimeout: number;
}

/** Meets every node at once, on connections of its own that it closes; never rejects. */
export function discover(
  nodes: readonly NodeRef[],
  options: DiscoverOptions,
): Promise<NodeFacts[]> {
  return Promise.all(nodes.map((ref) => discoverOne(ref, options)));
}

async function discoverOne(ref: NodeRef, options: DiscoverOptions): Promise<NodeFacts> {
  const facts: { -readonly [K in keyof NodeFacts]: NodeFacts[K] } = {
    ref,
    error: undefined,
    roundTripMs: undefined,
    runId: undefined,
    uptimeSeconds: undefined,
    redisVersion: undefined,
    usedMemory: undefined,
    maxmemory: undefined,
    policy: undefined,
    record: undefined,
    lockKeys: undefined,
    lockKeysError: undefined,
  };
  const redisOptions: RedisOptions = {
    connectTimeout: options.connectTimeout,
    ...options.redis,
    ...(ref.spec.redis ?? {}),
    ...(ref.spec.url === undefined ? { host: ref.spec.host, port: ref.spec.port } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    commandTimeout: options.connectTimeout,
    connectionName: 'shardlock-cli',
  };
  // ioredis' option types do not satisfy exactOptionalPropertyTypes; the values are its own.
  const loose = redisOptions as never;
  const redis = ref.spec.url === undefined ? new Redis(loose) : new Redis(ref.spec.url, loose);
  // connect() rejects with "Connection is closed."; the cause is in the last error event.
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    let fastest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await redis.ping();
      fastest = Math.min(fastest, performance.now() - start);
    }
    facts.roundTripMs = fastest;
    const info = await redis.info();
    const field = (name: string): string | undefined =>
      new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    facts.runId = field('run_id');
    facts.uptimeSeconds = numberOrUndefined(field('uptime_in_seconds'));
    facts.redisVersion = field('redis_version');
    facts.usedMemory = numberOrUndefined(field('used_memory'));
    facts.maxmemory = numberOrUndefined(field('maxmemory'));
    facts.policy = field('maxmemory_policy');
    const flat = await redis.hgetall(`${options.keyPrefix}cluster`);
    const pairs = Object.entries(flat).flat();
    facts.record = pairs.length === 0 ? undefined : parseRecord(pairs);
    if (options.countLocks) {
      try {
        facts.lockKeys = await countKeys(redis, `${globEscape(options.keyPrefix)}lock:*`);
      } catch (error) {
        facts.lockKeysError = (error as Error).message;
      }
    }
  } catch (error) {
    facts.error = (lastError ?? (error as Error)).message;
  } finally {
    redis.disconnect();
  }
  return facts;
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

function numberOrUndefined(text: string | undefined): number | undefined {
  const value = Number(text);
  return text === undefined || !Number.isFinite(value) ? undefined : value;
}

/** Escapes glob characters, so a key prefix matches only itself. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
