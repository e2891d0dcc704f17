import { LockTimeoutError, type ShardlockError } from './errors.js';
import type { LockEngine } from './engine.js';
import type { Lock } from './lock.js';
import { backoff, type ResolvedAcquireOptions } from './acquire-options.js';
import { abortError, isAborted, sleep } from './sleep.js';

/**
 * Acquires `key`, retrying with backoff while someone else holds it.
 * @throws {@link LockTimeoutError} when retries or `waitTimeout` run out
 * @throws {@link LockAbortedError} when `signal` aborts; a late grant is released
 * @throws {@link NodeUnavailableError} when the key's node cannot be reached
 */
export async function acquireLock(
  engine: LockEngine,
  key: string,
  options: ResolvedAcquireOptions,
): Promise<Lock> {
  const { retry, signal, ttl, waitTimeout } = options;
  const started = performance.now();
  const token = engine.token();
  for (let attempt = 0; ; attempt++) {
    if (isAborted(signal)) throw abortError(signal, key);
    engine.checkOpen();
    const result = await engine.tryOnce(key, token, ttl);
    if (typeof result !== 'number') {
      if (!isAborted(signal)) return result;
      // The grant raced the abort: the caller has gone, so the lock must not outlive it.
      await result.release().catch((error: unknown) => {
        engine.reportBackground(error as ShardlockError);
      });
      throw abortError(signal, key);
    }
    const elapsed = performance.now() - started;
    let delay = backoff(retry, attempt + 1, result);
    if (waitTimeout !== undefined) delay = Math.min(delay, waitTimeout - elapsed);
    if (attempt >= retry.attempts || delay < 0) {
      throw new LockTimeoutError(
        `could not acquire ${JSON.stringify(key)} in ${attempt + 1} attempts over ${Math.round(elapsed)} ms: it is held by another owner`,
        { key, attempts: attempt + 1, nodeId: engine.nodeFor(key).id },
      );
    }
    await sleep(delay, signal, key);
  }
}
