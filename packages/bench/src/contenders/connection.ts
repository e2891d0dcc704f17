import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectOptions, LockWorkload, NodeAddress } from './types.js';

/** ioredis options for `node` with the run's credentials and TLS. */
export function redisOptions(
  node: NodeAddress,
  connect: ConnectOptions,
  extra: RedisOptions = {},
): RedisOptions {
  const options: RedisOptions = {
    host: node.host,
    port: node.port,
    maxRetriesPerRequest: 1,
    ...extra,
  };
  if (connect.username !== undefined) options.username = connect.username;
  if (connect.password !== undefined) options.password = connect.password;
  if (connect.tls !== undefined) options.tls = { ...connect.tls };
  return options;
}

/** Opens an ioredis connection and waits until it is ready. */
export async function openRedis(
  node: NodeAddress,
  connect: ConnectOptions,
  extra: RedisOptions = {},
): Promise<Redis> {
  // ioredis' option types do not satisfy exactOptionalPropertyTypes; the values are its own.
  const redis = new Redis({ ...redisOptions(node, connect, extra), lazyConnect: true } as never);
  try {
    await redis.connect();
  } catch (cause) {
    redis.disconnect();
    throw new Error(
      `cannot reach node ${node.id} at ${node.host}:${node.port}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return redis;
}

/**
 * How many retries a contender whose wait is bounded by attempts only gets: in a contended
 * run, as many as fit the wait timeout at its mean delay; else the workload's retries.
 */
export function waitAttempts(workload: LockWorkload): number {
  return workload.waitTimeout === undefined
    ? workload.retries
    : Math.floor(workload.waitTimeout / Math.max(1, workload.retryDelay));
}

/** Waits `ms`. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
