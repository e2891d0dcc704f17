import { InvalidArgumentError, LockTimeoutError, type ShardlockError } from './errors.js';
import type { LockEngine } from './engine.js';
import { Lock } from './lock.js';
import { LockGroup } from './lock-group.js';
import { backoff, type ResolvedAcquireOptions } from './acquire-options.js';
import { abortError, isAborted, sleep } from './sleep.js';
import { received } from './validate.js';

/** Most keys one `acquireMany()` takes. */
export const MAX_KEYS_PER_GROUP = 1_000;

/**
 * Validates the keys of `acquireMany()`: a non-empty array of distinct valid keys.
 * @throws {@link InvalidArgumentError}
 */
export function checkKeys(engine: LockEngine, keys: unknown): string[] {
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS_PER_GROUP) {
    throw new InvalidArgumentError(
      `keys must be an array of 1 to ${MAX_KEYS_PER_GROUP} keys, received ${received(keys)}`,
    );
  }
  const seen = new Set<string>();
  for (const key of keys) {
    engine.checkKey(key);
    if (seen.has(key as string))
      throw new InvalidArgumentError(`key ${JSON.stringify(key)} appears more than once`, {
        key: key as string,
      });
    seen.add(key as string);
  }
  return keys as string[];
}

/**
 * Locks every key or none. Each attempt asks for all keys at once (one batched call per
 * node); if any is held, it releases what it took before it waits. Holding nothing while
 * waiting is what rules out deadlock between groups with overlapping keys; the jittered
 * backoff spreads competing groups apart.
 * @throws {@link LockTimeoutError}, {@link LockAbortedError} or {@link NodeUnavailableError};
 *   nothing stays locked after a throw
 */
export async function acquireMany(
  engine: LockEngine,
  keys: readonly string[],
  options: ResolvedAcquireOptions,
): Promise<LockGroup> {
  const { retry, signal, ttl, waitTimeout } = options;
  const started = performance.now();
  const token = engine.token();
  for (let attempt = 0; ; attempt++) {
    if (isAborted(signal)) throw abortError(signal, keys[0]);
    engine.checkOpen();
    const results = await Promise.allSettled(keys.map((key) => engine.tryOnce(key, token, ttl)));
    const locks: Lock[] = [];
    let heldFor = 0;
    let failure: Error | undefined;
    for (const result of results) {
      if (result.status === 'rejected') failure ??= result.reason as Error;
      else if (result.value instanceof Lock) locks.push(result.value);
      else heldFor = Math.max(heldFor, result.value);
    }
    if (locks.length === keys.length && !isAborted(signal)) return new LockGroup(locks);
    await releaseAll(engine, locks);
    if (failure !== undefined) throw failure;
    if (isAborted(signal)) throw abortError(signal, keys[0]);
    const elapsed = performance.now() - started;
    let delay = backoff(retry, attempt + 1, heldFor);
    if (waitTimeout !== undefined) delay = Math.min(delay, waitTimeout - elapsed);
    if (attempt >= retry.attempts || delay < 0) {
      throw new LockTimeoutError(
        `could not acquire all of ${keys.length} keys in ${attempt + 1} attempts over ${Math.round(elapsed)} ms`,
        {
          key: keys[0],
          attempts: attempt + 1,
        },
      );
    }
    await sleep(delay, signal, keys[0]);
  }
}

async function releaseAll(engine: LockEngine, locks: readonly Lock[]): Promise<void> {
  const results = await Promise.allSettled(locks.map((lock) => lock.release()));
  for (const result of results) {
    if (result.status === 'rejected') engine.reportBackground(result.reason as ShardlockError);
  }
}
