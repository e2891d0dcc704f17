import { LockClient, LockTimeoutError, type LockClientOptions } from '@shardlock/core';
import { redisOptions } from './connection.js';
import type { Contender } from './types.js';

/** The most retries core takes (`retry.attempts`). */
const MAX_ATTEMPTS = 1_000_000;

/** `@shardlock/core` over every node of the run, one owner per key. */
export const shardlock: Contender = shardlockWith(1);

/** `@shardlock/core` in quorum mode: each key on a majority of its 3 replicas. */
export const shardlockQ3: Contender = shardlockWith(3);

/** `@shardlock/core` in quorum mode with 5 replicas (run with `--replicas 5`). */
export const shardlockQ5: Contender = shardlockWith(5);

/** `@shardlock/core` with `wakeUp: false`: waiters poll on their retry delay (issue 11's "before"). */
export const shardlockPoll: Contender = {
  name: 'shardlock-poll',
  description: '@shardlock/core with wakeUp: false: waiters poll at their retry delay',
  minNodes: 1,
  connect: (nodes, workload, connect) =>
    connectShardlock(1, { wakeUp: false }, 'poll', nodes, workload, connect),
};

/** `@shardlock/core` with `fair: true`: waiters served in arrival order across processes. */
export const shardlockFair: Contender = {
  name: 'shardlock-fair',
  description: '@shardlock/core with fair: true: waiters served in arrival order',
  minNodes: 1,
  connect: (nodes, workload, connect) =>
    connectShardlock(1, { fair: true }, 'fair', nodes, workload, connect),
};

/** The contender of each replica count `--replicas` takes. */
export const SHARDLOCK_MODES: ReadonlyMap<number, Contender> = new Map([
  [1, shardlock],
  [3, shardlockQ3],
  [5, shardlockQ5],
]);

function shardlockWith(replicas: 1 | 3 | 5): Contender {
  return {
    name: replicas === 1 ? 'shardlock' : `shardlock-q${replicas}`,
    description:
      replicas === 1
        ? '@shardlock/core, sharded over all nodes, batched per node and tick'
        : `@shardlock/core in quorum mode: each key on a majority of ${replicas} replicas, batched per node and tick`,
    minNodes: replicas,
    connect: (nodes, workload, connect) =>
      connectShardlock(replicas, {}, `q${replicas}`, nodes, workload, connect),
  };
}

/** Client options of the waiting modes (docs/contention.md). */
type WaitModeOptions = Pick<LockClientOptions, 'wakeUp' | 'fair'>;

async function connectShardlock(
  replicas: 1 | 3 | 5,
  mode: WaitModeOptions,
  label: string,
  ...[nodes, workload, connect]: Parameters<Contender['connect']>
): ReturnType<Contender['connect']> {
  const base = redisOptions(nodes[0]!, connect);
  // A benchmark measures steady traffic: a node started (or restarted) for the run is used at
  // once instead of after the restart quarantine that protects production traffic.
  const client = new LockClient({
    // A namespace of its own per run: the cluster record under it carries this run's
    // settings, and nothing of a real deployment's locks is touched.
    // Shared by the load processes of a run (`--clients`), so that they meet on its keys.
    keyPrefix: `shardlock-bench:${workload.namespace}:${label}:`,
    restartQuarantine: false,
    replicas,
    nodes: nodes.map(({ id, host, port }) => ({ id, host, port })),
    maxTtl: Math.max(workload.ttl, 60_000),
    redis: { username: base.username, password: base.password, tls: base.tls },
    retry: {
      // A contended run waits until waitTimeout, however many retries that takes.
      attempts: workload.waitTimeout === undefined ? workload.retries : MAX_ATTEMPTS,
      delay: workload.retryDelay,
      maxDelay: workload.retryDelay * 8,
      jitter: workload.retryDelay,
    },
    ...(workload.waitTimeout === undefined ? {} : { waitTimeout: workload.waitTimeout }),
    ...mode,
  });
  client.on('nodeError', () => undefined);
  // The client wins on successors for a detection lag after it first meets a server that
  // others may have failed over: the clock starts once those windows are over.
  let windows = 0;
  client.on('rebalance', (event) => {
    if (event.reason === 'start') windows++;
  });
  client.on('handoffEnd', () => windows--);
  await client.ready();
  const by = performance.now() + 2 * client.options.handoffWindow;
  while (windows > 0 && performance.now() < by) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Connect every node before the clock starts, as the other contenders do.
  await Promise.all(
    nodes.map(async (_, i) => {
      const key = [...Array(64).keys()]
        .map((k) => `warm:${i}:${k}`)
        .find((k) => client.nodeFor(k) === nodes[i]!.id);
      // One try: the load processes of a run share these keys, and one may hold it now.
      if (key !== undefined) await (await client.tryAcquire(key, { ttl: 1_000 }))?.release();
    }),
  );
  return {
    async acquire(key) {
      try {
        const lock = await client.acquire(key, { ttl: workload.ttl });
        return () => lock.release();
      } catch (error) {
        if (error instanceof LockTimeoutError) return null;
        throw error;
      }
    },
    close: () => client.close(),
  };
}
