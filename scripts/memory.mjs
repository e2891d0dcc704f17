// `pnpm memory [--nodes <n; default 64>] [--locks <n; default 10000>]`: the heap of one client
// holding many locks over many nodes. Starts that many local redis-server processes (the
// bench's embedded cluster), acquires the locks, and prints the heap after a full GC before
// the client, once connected, and with every lock held. Needs `pnpm build` first.
import { parseArgs } from 'node:util';
import { LocalCluster } from '../packages/bench/dist/local-cluster.js';
import { LockClient } from '../packages/core/dist/index.js';

const args = process.argv.slice(2);
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: {
    nodes: { type: 'string', default: '64' },
    locks: { type: 'string', default: '10000' },
  },
});
const nodes = Number(values.nodes);
const count = Number(values.locks);
if (
  !Number.isInteger(nodes) ||
  nodes < 1 ||
  nodes > 256 ||
  !Number.isInteger(count) ||
  count < 1 ||
  count > 1_000_000
) {
  console.error('usage: pnpm memory [--nodes <1–256>] [--locks <1–1000000>]');
  process.exit(2);
}
const heap = () => {
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const mib = (bytes) => Number((bytes / 2 ** 20).toFixed(1));
const cluster = await LocalCluster.start(nodes);
try {
  const before = heap();
  const client = new LockClient({
    restartQuarantine: false,
    keyPrefix: 'shardlock-memory:',
    nodes: cluster.nodes.map(({ id, host, port }) => ({ id, host, port })),
  });
  await client.ready();
  const connected = heap();
  const locks = [];
  for (let i = 0; i < count; i += 500) {
    const batch = Array.from({ length: Math.min(500, count - i) }, (_, j) => `key:${i + j}`);
    locks.push(...(await Promise.all(batch.map((key) => client.acquire(key, { ttl: 60_000 })))));
  }
  const held = heap();
  console.log(
    JSON.stringify({
      nodes,
      locks: locks.length,
      heapMiB: { before: mib(before), connected: mib(connected), held: mib(held) },
      bytesPerHeldLock: Math.round((held - connected) / locks.length),
    }),
  );
  await Promise.all(locks.map((lock) => lock.release()));
  await client.close();
} finally {
  await cluster.stop();
}
