import type { RedisOptions } from 'ioredis';
import { InvalidArgumentError } from './errors.js';
import { received } from './validate.js';

/**
 * ioredis options the client sets itself, because safety depends on them: timeouts that the
 * handoff window is checked against, reconnects within the detection lag, no offline queue
 * or replay of a lock command, the key layout. They are refused in `redis` options.
 */
export const OWNED_REDIS_OPTIONS = [
  'commandTimeout',
  'retryStrategy',
  'enableOfflineQueue',
  'maxRetriesPerRequest',
  'autoResendUnfulfilledCommands',
  'autoResubscribe',
  'lazyConnect',
  'keyPrefix',
  'reconnectOnError',
  'host',
  'port',
  'path',
  'readOnly',
] as const;

/** The ioredis options a user may set: all but {@link OWNED_REDIS_OPTIONS}. */
export type UserRedisOptions = Omit<RedisOptions, (typeof OWNED_REDIS_OPTIONS)[number]>;

/**
 * Refuses ioredis options the client owns (also when given as `undefined`, which would
 * still override the client's value).
 * @throws {@link InvalidArgumentError}
 */
export function checkRedisOptions(redis: unknown, where: string): UserRedisOptions {
  if (typeof redis !== 'object' || redis === null || Array.isArray(redis)) {
    throw new InvalidArgumentError(
      `${where} must be an ioredis options object, received ${received(redis)}`,
    );
  }
  for (const name of OWNED_REDIS_OPTIONS) {
    if (name in redis) {
      throw new InvalidArgumentError(
        `${where}.${name} is set by the client itself and cannot be given (${name === 'commandTimeout' ? 'use the client option commandTimeout' : 'safety depends on it'}); the owned ioredis options are ${OWNED_REDIS_OPTIONS.join(', ')}`,
      );
    }
  }
  return redis;
}
