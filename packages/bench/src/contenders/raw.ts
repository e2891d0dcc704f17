import { randomBytes } from 'node:crypto';
import HashRingPackage from 'hashring';
import { HashRing } from '@shardlock/ring';
import type { Redis } from 'ioredis';
import { openRedis, pause } from './connection.js';
import type {
  Contender,
  ContenderSession,
  LockWorkload,
  NodeAddress,
  ConnectOptions,
} from './types.js';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** Commands the raw contender sends: SET NX PX, then EVALSHA compare-and-delete. */
async function rawSession(
  nodes: readonly NodeAddress[],
  workload: LockWorkload,
  connect: ConnectOptions,
  route: (key: string) => string,
): Promise<ContenderSession> {
  const byId = new Map<string, Redis>();
  for (const node of nodes)
    byId.set(node.id, await openRedis(node, connect, { enableAutoPipelining: true }));
  const sha = (await [...byId.values()][0]!.script('LOAD', RELEASE)) as string;
  await Promise.all([...byId.values()].map((redis) => redis.script('LOAD', RELEASE)));
  return {
    async acquire(key) {
      const redis = byId.get(route(key))!;
      const token = randomBytes(16).toString('base64url');
      const until =
        workload.waitTimeout === undefined ? undefined : performance.now() + workload.waitTimeout;
      for (let attempt = 0; ; attempt++) {
        if ((await redis.set(`raw:${key}`, token, 'PX', workload.ttl, 'NX')) === 'OK') {
          return () => redis.evalsha(sha, 1, `raw:${key}`, token);
        }
        const delay = workload.retryDelay + Math.random() * workload.retryDelay;
        // Fresh keys count attempts; a contended run polls until its wait timeout.
        if (until === undefined ? attempt >= workload.retries : performance.now() + delay > until) {
          return null;
        }
        await pause(delay);
      }
    },
    async close() {
      await Promise.all([...byId.values()].map((redis) => redis.quit()));
    },
  };
}

/** Plain ioredis with auto-pipelining, routed by the same ring as shardlock. */
export const raw: Contender = {
  name: 'raw',
  description:
    'ioredis SET NX PX + EVALSHA compare-and-delete, auto-pipelining, routed by @shardlock/ring',
  minNodes: 1,
  connect(nodes, workload, connect) {
    const ring = new HashRing(nodes.map((n) => n.id));
    return rawSession(nodes, workload, connect, (key) => ring.owner(key));
  },
};

/** The naive hash-ring lock client: the same commands, routed by the `hashring` package. */
export const hashring: Contender = {
  name: 'hashring',
  description:
    'ioredis SET NX PX + EVALSHA, routed by the hashring package (no rebalancing safety)',
  minNodes: 1,
  connect(nodes, workload, connect) {
    const ring = new HashRingPackage(nodes.map((n) => n.id));
    return rawSession(nodes, workload, connect, (key) => ring.get(key));
  },
};
