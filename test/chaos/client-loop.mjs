// The chaos checker's lock clients: the same loop runs in the test process and in child
// processes (child.mjs), against the built @shardlock/core. Plain JavaScript so that a
// child process can run it without a TypeScript loader.
import { LockClient, LockTimeoutError } from '../../packages/core/dist/index.js';

/** Monotonic ms on the clock every process on this machine shares. */
export const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `config.clients` lock clients until `stop()` is called. Each loops: take a random hot
 * key, hold it a few ms, release it. `report` receives every grant and every failure.
 */
export function startClients(config, report) {
  const clients = [];
  let running = true;
  let random = config.seed >>> 0 || 1;
  const next = () => {
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return (random >>> 0) / 2 ** 32;
  };
  const loops = [];
  for (let c = 0; c < config.clients; c++) {
    const client = new LockClient({ nodes: config.nodes, ...config.options });
    client.on('nodeError', () => undefined);
    client.on('backgroundError', () => undefined);
    clients.push(client);
    const owner = `${config.name}/c${c}`;
    for (let w = 0; w < config.workersPerClient; w++) {
      loops.push(
        (async () => {
          while (running) {
            const key = config.keys[Math.floor(next() * config.keys.length)];
            let lock;
            try {
              lock = await client.acquire(key, {
                ttl: config.ttl,
                retry: { attempts: 20, delay: 5, maxDelay: 40, jitter: 5 },
              });
            } catch (error) {
              report.failure({
                owner,
                key,
                code: error.code ?? 'ERR',
                at: hrMs(),
                timeout: error instanceof LockTimeoutError,
              });
              await sleep(10);
              continue;
            }
            const grantedAt = hrMs();
            const grant = {
              key,
              token: lock.token,
              fence: String(lock.fence),
              grantedAt,
              believedUntil: grantedAt + (lock.deadline - performance.now()),
              releasedAt: Number.POSITIVE_INFINITY,
              owner,
              nodeIds: lock.nodeIds,
            };
            // The first worker of each client holds for most of the lease without looking at
            // the lock: the holder that quarantines and handoffs exist to protect.
            const hold = w === 0 ? next() * config.ttl : next() * config.maxHold;
            await sleep(Math.floor(hold));
            // A holder stops believing when it lets go, or when its lease has run out (its
            // process may have been stopped meanwhile): whichever comes first.
            grant.releasedAt = hrMs();
            report.grant(grant);
            await lock.release().catch(() => undefined);
          }
        })(),
      );
    }
  }
  return {
    clients,
    async addNode(spec) {
      await Promise.all(clients.map((client) => client.addNode(spec)));
    },
    async removeNode(id) {
      await Promise.all(clients.map((client) => client.removeNode(id)));
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((client) => client.close()));
    },
  };
}
