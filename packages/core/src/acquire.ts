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
  const run = (): Promise<Lock> =>
    retry(engine, { key }, () => engine.tryOnce(key, options.ttl), releaseLock, options);
  // The closure for the trace only when someone listens.
  return acquireChannel.hasSubscribers
    ? traceAcquire(engine.client, key, 1, options.ttl, run)
    : run();
}

function releaseLock(lock: Lock): Promise<boolean> {
  return lock.release();
}
