import { LockAbortedError, LockLostError, type ShardlockError } from './errors.js';
import type { LockEngine } from './engine.js';
import type { Lock } from './lock.js';
import type { LockLostReason } from './events.js';
import type { ResolvedAcquireOptions } from './acquire-options.js';
import { acquireLock } from './acquire.js';

/** The work `withLock` runs while it holds the lock. */
export type LockedWork<T> = (signal: AbortSignal, lock: Lock) => Promise<T> | T;

// How long before the end of validity the signal aborts when no extension has succeeded:
// the callback needs a moment to notice and stop touching the resource (docs/safety.md).
function guardFor(ttl: number): number {
  return Math.max(1, Math.min(50, ttl * 0.05));
}

/**
 * Holds `key` while `work` runs, extends the lease in the background when asked, and
 * releases it afterwards. `work`'s signal aborts, with a {@link LockLostError} as its reason,
 * as soon as the lock is found lost or validity is about to end without an extension; and
 * with a {@link LockAbortedError} when the caller's own signal aborts.
 */
export async function withLock<T>(
  engine: LockEngine,
  key: string,
  work: LockedWork<T>,
  options: ResolvedAcquireOptions,
): Promise<T> {
  const rt = engine.runtime;
  const lock = await acquireLock(engine, key, options);
  const controller = new AbortController();
  let stopped = false;
  let watchdog: unknown;
  let extender: unknown;

  const stopTimers = (): void => {
    rt.clearTimeout(extender);
    rt.clearTimeout(watchdog);
  };
  const lose = (reason: LockLostReason, cause?: unknown): void => {
    if (stopped || controller.signal.aborted) return;
    lock.onLost(undefined);
    lock.markLost(reason);
    const message = `lock on ${JSON.stringify(key)} was lost (${reason})`;
    controller.abort(new LockLostError(message, { key, nodeId: lock.nodeId, cause }));
    stopTimers();
  };
  const callerAborted = (): void => {
    if (stopped || controller.signal.aborted) return;
    controller.abort(
      new LockAbortedError(`withLock on ${JSON.stringify(key)} was aborted by its caller`, {
        key,
        cause: options.signal?.reason,
      }),
    );
    stopTimers();
  };

  const arm = (): void => {
    // A node that went down while the extend travelled has already been reported: say so now.
    if (!lock.isValid()) {
      lose(rt.now() >= lock.deadline ? 'expired' : 'node-lost');
      return;
    }
    rt.clearTimeout(watchdog);
    const untilGuard = lock.deadline - guardFor(lock.ttl) - rt.now();
    watchdog = rt.setTimeout(() => lose('expired'), Math.max(0, untilGuard));
    if (options.autoExtend) scheduleExtend((lock.deadline - rt.now()) / 2);
  };

  const scheduleExtend = (delay: number): void => {
    rt.clearTimeout(extender);
    extender = rt.setTimeout(() => void extend(), Math.max(0, delay));
  };

  const extend = async (): Promise<void> => {
    try {
      await lock.extend(lock.ttl);
      if (!stopped && !controller.signal.aborted) arm();
    } catch (error) {
      if (stopped || controller.signal.aborted) return;
      if (error instanceof LockLostError) {
        lose('not-owner', error);
        return;
      }
      // The node did not answer: try again while validity lasts; the watchdog aborts in time.
      engine.reportBackground(error as ShardlockError);
      scheduleExtend(Math.min(100, (lock.deadline - rt.now()) / 4));
    }
  };

  // Every node that holds the lease is watched: the engine tells the lock when one goes down.
  lock.onLost((reason) => lose(reason));
  options.signal?.addEventListener('abort', callerAborted, { once: true });
  try {
    // The caller gave up while the grant travelled: its work must not start.
    if (options.signal?.aborted === true) {
      throw new LockAbortedError(`withLock on ${JSON.stringify(key)} was aborted`, {
        key,
        cause: options.signal.reason,
      });
    }
    arm();
    return await work(controller.signal, lock);
  } finally {
    stopped = true;
    stopTimers();
    lock.onLost(undefined);
    options.signal?.removeEventListener('abort', callerAborted);
    await lock.release().catch((error: unknown) => {
      // The work is done; an unreachable node lets the lease expire by its TTL.
      engine.reportBackground(error as ShardlockError);
    });
  }
}
