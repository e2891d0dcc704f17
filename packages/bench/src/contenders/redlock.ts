import Redlock from 'redlock';
import type { Redis } from 'ioredis';
import { openRedis, waitAttempts } from './connection.js';
import type {
  Contender,
  ContenderSession,
  ConnectOptions,
  LockWorkload,
  NodeAddress,
} from './types.js';

async function redlockSession(
  nodes: readonly NodeAddress[],
  workload: LockWorkload,
  connect: ConnectOptions,
): Promise<ContenderSession> {
  const clients: Redis[] = [];
  for (const node of nodes) clients.push(await openRedis(node, connect));
  const redlock = new Redlock(clients, {
    // redlock bounds a wait by attempts only: in a contended run, as many as fit the wait
    // timeout at its mean delay (it jitters ± retryJitter around retryDelay).
    retryCount: waitAttempts(workload),
    retryDelay: workload.retryDelay,
    retryJitter: workload.retryDelay,
    automaticExtensionThreshold: 0,
  });
  redlock.on('error', () => undefined);
  return {
    async acquire(key) {
      try {
        const lock = await redlock.acquire([`redlock:${key}`], workload.ttl);
        return () => lock.release();
      } catch (error) {
        if ((error as Error).name === 'ExecutionError') return null;
        throw error;
      }
    },
    async close() {
      await Promise.all(clients.map((redis) => redis.quit()));
    },
  };
}

/** redlock 5 on the run's first node, as most single-Redis users run it. */
export const redlock: Contender = {
  name: 'redlock',
  description: 'redlock 5 (beta.2) on one node',
  minNodes: 1,
  nodesUsed: 1,
  connect: (nodes, workload, connect) => redlockSession(nodes.slice(0, 1), workload, connect),
};

/** redlock 5 with a quorum over the run's first three nodes: every lock on every node. */
export const redlock3: Contender = {
  name: 'redlock-3',
  description: 'redlock 5 (beta.2), quorum over three nodes',
  minNodes: 3,
  nodesUsed: 3,
  connect: (nodes, workload, connect) => redlockSession(nodes.slice(0, 3), workload, connect),
};
