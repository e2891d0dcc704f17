import { acquireChannel, traceAcquire } from './diagnostics.js';
import type { LockEngine } from './engine.js';
import type { Lock } from './lock.js';
import type { ResolvedAcquireOptions } from './acquire-options.js';
import { retry } from './retry.js';

/**
 * Acquires `key`, retrying with backoff while someone else holds it.
 * @throws {@link LockTimeoutError} when retries or `waitTimeout` run out
 * @throws {@link LockAbortedError} when `signal` aborts; a late grant is released
 * @throws {@link NodeUnavailableError} when the key's node cannot be reached
 */
export function acquireLock(
  engine: LockEngine,
  key: string,
  options: ResolvedAcquireOptions,
): Promise<Lock> {
  // A closure for the trace only when someone listens: this is every acquire's path.
  if (acquireChannel.hasSubscribers) {
    return traceAcquire(engine.client, key, 1, options.ttl, () => retryKey(engine, key, options));
  }
  return retryKey(engine, key, options);
}

function retryKey(engine: LockEngine, key: string, options: ResolvedAcquireOptions): Promise<Lock> {
  return retry(engine, { key }, () => engine.tryOnce(key, options.ttl), releaseLock, options);
}

function releaseLock(lock: Lock): Promise<boolean> {
  return lock.release();
}
