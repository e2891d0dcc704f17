import { Mutex } from 'redis-semaphore';
import { openRedis } from './connection.js';
import type { Contender } from './types.js';

/** redis-semaphore's Mutex on the run's first node. */
export const semaphore: Contender = {
  name: 'semaphore',
  description: 'redis-semaphore 5 Mutex on one node',
  minNodes: 1,
  nodesUsed: 1,
  async connect(nodes, workload, connect) {
    const redis = await openRedis(nodes[0]!, connect);
    return {
      async acquire(key) {
        const waits = workload.waitTimeout;
        // A contended run waits by time (its acquireTimeout), attempts unbounded.
        const mutex = new Mutex(redis, `semaphore:${key}`, {
          lockTimeout: workload.ttl,
          acquireAttemptsLimit:
            waits === undefined ? workload.retries + 1 : Number.POSITIVE_INFINITY,
          retryInterval: workload.retryDelay,
          acquireTimeout: waits ?? 60_000,
          refreshInterval: 0,
        });
        const acquired =
          (waits ?? workload.retries) === 0
            ? await mutex.tryAcquire()
            : await mutex.acquire().then(
                () => true,
                (error: unknown) => {
                  if ((error as Error).name === 'TimeoutError') return false;
                  throw error;
                },
              );
        if (!acquired) return null;
        return () => mutex.release();
      },
      async close() {
        await redis.quit();
      },
    };
  },
};
