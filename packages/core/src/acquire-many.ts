import { acquireChannel, traceAcquire } from './diagnostics.js';
import { InvalidArgumentError, NodeQuarantinedError, type ShardlockError } from './errors.js';
import type { LockEngine } from './engine.js';
import { Lock } from './lock.js';
import { LockGroup } from './lock-group.js';
import type { ResolvedAcquireOptions } from './acquire-options.js';
import { retry } from './retry.js';
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
 * backoff spreads competing groups apart. Retries, quarantine waits, `waitTimeout` and
 * `signal` behave as in `acquire` (one retry loop serves both).
 * @throws {@link LockTimeoutError}, {@link LockAbortedError} or what a key's attempt throws;
 *   nothing stays locked after a throw
 */
export function acquireMany(
  engine: LockEngine,
  keys: readonly string[],
  options: ResolvedAcquireOptions,
): Promise<LockGroup> {
  if (acquireChannel.hasSubscribers) {
    return traceAcquire(engine.client, keys[0]!, keys.length, options.ttl, () =>
      retryAll(engine, keys, options),
    );
  }
  return retryAll(engine, keys, options);
}

function retryAll(
  engine: LockEngine,
  keys: readonly string[],
  options: ResolvedAcquireOptions,
): Promise<LockGroup> {
  return retry(
    engine,
    { key: keys[0]!, what: `all of ${keys.length} keys`, keys: keys.length },
    { attempt: () => attemptAll(engine, keys, options.ttl), free: (group) => group.release() },
    options,
  );
}

async function attemptAll(
  engine: LockEngine,
  keys: readonly string[],
  ttl: number,
): Promise<LockGroup | number> {
  const results = await Promise.allSettled(keys.map((key) => engine.tryOnce(key, ttl)));
  const locks: Lock[] = [];
  let heldFor = 0;
  let failure: Error | undefined;
  for (const result of results) {
    if (result.status === 'rejected') failure = worse(failure, result.reason as Error);
    else if (result.value instanceof Lock) locks.push(result.value);
    else heldFor = Math.max(heldFor, result.value);
  }
  // Each key's attempt counts its validity from its own send, and one may have waited (a
  // contact, another round) while another's lease ran: all must still be valid together
  // (found in the simulator: a group came back with one lock already expired).
  if (locks.length === keys.length && locks.every((lock) => lock.isValid())) {
    return new LockGroup(locks);
  }
  const released = await Promise.allSettled(locks.map((lock) => lock.release()));
  for (const result of released) {
    if (result.status === 'rejected') engine.reportBackground(result.reason as ShardlockError);
  }
  if (failure !== undefined) throw failure;
  return heldFor;
}

/**
 * The failure that decides the attempt: any other error over a quarantine (it cannot be
 * waited out), else the quarantine that lasts longest.
 */
function worse(current: Error | undefined, next: Error): Error {
  if (current === undefined) return next;
  if (!(current instanceof NodeQuarantinedError)) return current;
  if (!(next instanceof NodeQuarantinedError)) return next;
  return next.retryAfter > current.retryAfter ? next : current;
}
