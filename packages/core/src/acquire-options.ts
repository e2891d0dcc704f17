import { InvalidArgumentError } from './errors.js';
import type { LockEngine } from './engine.js';
import {
  checkFair,
  resolveRetry,
  resolveWaitTimeout,
  type ResolvedRetryOptions,
  type RetryOptions,
} from './options.js';
import { checkKnownKeys, received } from './validate.js';

/** Options of one `acquire()`, `tryAcquire()` or `acquireMany()`. */
export interface AcquireOptions {
  /** Lease in ms, from 1 to the client's `maxTtl`. @default the client's `defaultTtl` */
  readonly ttl?: number;
  /** Retries while the key is held; overrides the client's `retry` field by field. */
  readonly retry?: RetryOptions;
  /** Bound of the whole wait, in ms. @default the client's `waitTimeout` */
  readonly waitTimeout?: number;
  /** Aborts the wait at once; a grant that arrives after the abort is released. */
  readonly signal?: AbortSignal;
  /**
   * Wait in line: a free key goes to the waiter that began to wait first, across processes.
   * @default the client's `fair`
   */
  readonly fair?: boolean;
}

/** Options of `withLock()`. */
export interface WithLockOptions extends AcquireOptions {
  /**
   * Extend the lease in the background while the callback runs (at half of the remaining
   * validity), so work may outlast one TTL. The callback's signal aborts if an extension
   * fails, before the validity runs out.
   * @default true
   */
  readonly autoExtend?: boolean;
}

/** {@link AcquireOptions} resolved against the client's defaults. */
export interface ResolvedAcquireOptions {
  readonly ttl: number;
  readonly retry: ResolvedRetryOptions;
  readonly waitTimeout: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly autoExtend: boolean;
  readonly fair: boolean;
}

const ACQUIRE_KEYS = new Set(['ttl', 'retry', 'waitTimeout', 'signal', 'fair']);
const WITH_LOCK_KEYS = new Set([...ACQUIRE_KEYS, 'autoExtend']);

/**
 * Validates per-call options and applies the client's defaults.
 * @throws {@link InvalidArgumentError}
 */
export function resolveAcquireOptions(
  engine: LockEngine,
  options: WithLockOptions | undefined,
  withLock = false,
): ResolvedAcquireOptions {
  const base = engine.options;
  if (options === undefined) {
    return {
      ttl: base.defaultTtl,
      retry: base.retry,
      waitTimeout: base.waitTimeout,
      signal: undefined,
      autoExtend: true,
      fair: base.fair,
    };
  }
  checkKnownKeys(
    options,
    withLock ? WITH_LOCK_KEYS : ACQUIRE_KEYS,
    withLock ? 'withLock' : 'acquire',
  );
  const signal: unknown = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, received ${received(signal)}`);
  }
  const autoExtend: unknown = options.autoExtend ?? true;
  if (typeof autoExtend !== 'boolean') {
    throw new InvalidArgumentError(
      `autoExtend must be a boolean, received ${received(autoExtend)}`,
    );
  }
  return {
    ttl: engine.checkTtl(options.ttl ?? base.defaultTtl),
    retry: resolveRetry(options.retry, base.retry),
    waitTimeout: resolveWaitTimeout(options.waitTimeout, base.waitTimeout),
    signal,
    autoExtend,
    fair:
      options.fair === undefined ? base.fair : checkFair(options.fair, base.wakeUp, base.replicas),
  };
}

/** The delay before retry number `attempt` (1-based): exponential, capped, with jitter. */
export function backoff(
  retry: ResolvedRetryOptions,
  attempt: number,
  heldFor: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(retry.maxDelay, retry.delay * 2 ** Math.min(attempt - 1, 30));
  // Waiting past the holder's lease is pointless: its key is free by then.
  const base = Math.min(exponential, Math.max(heldFor, 1));
  return base + random() * retry.jitter;
}
