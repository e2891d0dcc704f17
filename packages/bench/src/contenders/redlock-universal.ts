import { createLock, IoredisAdapter, LockAcquisitionError } from 'redlock-universal';
import { openRedis, waitAttempts } from './connection.js';
import type { Contender } from './types.js';

/**
 * redlock-universal's single-node lock on the run's first node, in its `lean` mode (no
 * circuit breaker: the standard mode PINGs the node on a lock object's first acquire, once
 * per key here, and its README names lean for throughput). Its waiting is a fixed retry
 * delay and an attempt count, no time bound: a contended run gives it as many attempts as
 * fit the wait timeout.
 */
export const redlockUniversal: Contender = {
  name: 'redlock-universal',
  description: 'redlock-universal 0.8.5 single-node lock (lean mode) on one node',
  minNodes: 1,
  nodesUsed: 1,
  async connect(nodes, workload, connect) {
    const redis = await openRedis(nodes[0]!, connect);
    const adapter = new IoredisAdapter(redis);
    const retryAttempts = waitAttempts(workload);
    return {
      async acquire(key) {
        const lock = createLock({
          adapter,
          key: `redlock-universal:${key}`,
          ttl: workload.ttl,
          retryAttempts,
          retryDelay: workload.retryDelay,
          performance: 'lean',
        });
        try {
          const handle = await lock.acquire();
          return () => lock.release(handle);
        } catch (error) {
          // It retries node errors as if the key were held; only its last one is told.
          if (error instanceof LockAcquisitionError && error.message.includes('already held')) {
            return null;
          }
          throw error;
        }
      },
      async close() {
        await redis.quit();
      },
    };
  },
};
