import { LockLostError, type ShardlockError } from './errors.js';
import type { LockEngine } from './engine.js';
import type { Lock } from './lock.js';
import type { RedisNode } from './node.js';
import type { LockLostReason } from './events.js';
import type { ResolvedAcquireOptions } from './acquire-options.js';
import { acquireLock } from './acquire.js';

/** The work `withLock` runs while it holds the lock. */
export type LockedWork<T> = (signal: AbortSignal, lock: Lock) => Promise<T> | T;

// How long before the end of validity the signal aborts when no extension has succeeded:
// the callback needs a moment to notice and stop touching the resource (SAFETY.md hazard 1).
function guardFor(ttl: number): number {
  return Math.max(1, Math.min(50, ttl * 0.05));
}

/**
 * Holds `key` while `work` runs, extends the lease in the background when asked, and
 * releases it afterwards. `work`'s signal aborts, with a {@link LockLostError} as its reason,
 * as soon as the lock is found lost or validity is about to end without an extension.
 */
export async function withLock<T>(
  engine: LockEngine,
  key: string,
  work: LockedWork<T>,
  options: ResolvedAcquireOptions,
): Promise<T> {
  const lock = await acquireLock(engine, key, options);
  const controller = new AbortController();
  let stopped = false;
  let watchdog: NodeJS.Timeout | undefined;
  let extender: NodeJS.Timeout | undefined;

  const lose = (reason: LockLostReason, cause?: unknown): void => {
    if (stopped || controller.signal.aborted) return;
    lock.markLost(reason);
    const message = `lock on ${JSON.stringify(key)} was lost (${reason})`;
    controller.abort(new LockLostError(message, { key, nodeId: lock.nodeId, cause }));
    clearTimeout(extender);
    clearTimeout(watchdog);
  };

  // The nodes that hold the lease are watched, also one an extend added during a handoff.
  const unwatchers = new Map<RedisNode, () => void>();
  const watchNodes = (): void => {
    for (const [node, unwatch] of unwatchers) {
      if (lock.nodes.includes(node)) continue;
      unwatch();
      unwatchers.delete(node);
    }
    for (const node of lock.nodes) {
      if (!unwatchers.has(node))
        unwatchers.set(
          node,
          engine.onNodeLost(node, () => lose('node-lost')),
        );
    }
  };

  const arm = (): void => {
    watchNodes();
    // A node that went down while the extend travelled has already been reported: say so now.
    if (!lock.isValid()) {
      lose(performance.now() >= lock.deadline ? 'expired' : 'node-lost');
      return;
    }
    clearTimeout(watchdog);
    const untilGuard = lock.deadline - guardFor(lock.ttl) - performance.now();
    watchdog = setTimeout(() => lose('expired'), Math.max(0, untilGuard));
    watchdog.unref();
    if (options.autoExtend) scheduleExtend((lock.deadline - performance.now()) / 2);
  };

  const scheduleExtend = (delay: number): void => {
    clearTimeout(extender);
    extender = setTimeout(() => void extend(), Math.max(0, delay));
    extender.unref();
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
      scheduleExtend(Math.min(100, (lock.deadline - performance.now()) / 4));
    }
  };

  arm();
  try {
    return await work(controller.signal, lock);
  } finally {
    stopped = true;
    clearTimeout(watchdog);
    clearTimeout(extender);
    for (const unwatch of unwatchers.values()) unwatch();
    await lock.release().catch((error: unknown) => {
      // The work is done; an unreachable node lets the lease expire by its TTL.
      engine.reportBackground(error as ShardlockError);
    });
  }
}
