import { LockTimeoutError, NodeQuarantinedError, type ShardlockError } from './errors.js';
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
    const result = await tryOrWait(engine, key, token, ttl, waitTimeout, started);
    if (result instanceof NodeQuarantinedError) {
      // Waiting out a quarantine is not a retry against a holder: it spends no attempt.
      attempt--;
      await sleep(result.retryAfter + 1, signal, key);
      continue;
    }
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
        { key, attempts: attempt + 1, nodeId: engine.ownerOf(key) },
      );
    }
    await sleep(delay, signal, key);
  }
}

/**
 * One attempt. A quarantined owner fails fast, unless the caller's `waitTimeout` reaches past
 * the quarantine: then the error comes back, to be waited out (SAFETY.md: fail fast, or wait
 * when asked).
 */
async function tryOrWait(
  engine: LockEngine,
  key: string,
  token: string,
  ttl: number,
  waitTimeout: number | undefined,
  started: number,
): Promise<Lock | number | NodeQuarantinedError> {
  try {
    return await engine.tryOnce(key, token, ttl);
  } catch (error) {
    if (!(error instanceof NodeQuarantinedError) || waitTimeout === undefined) throw error;
    if (performance.now() - started + error.retryAfter > waitTimeout) throw error;
    return error;
  }
}
