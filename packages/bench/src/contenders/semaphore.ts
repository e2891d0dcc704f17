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
        const mutex = new Mutex(redis, `semaphore:${key}`, {
          lockTimeout: workload.ttl,
          acquireAttemptsLimit: workload.retries + 1,
          retryInterval: workload.retryDelay,
          acquireTimeout: 60_000,
          refreshInterval: 0,
        });
        const acquired =
          workload.retries === 0
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
