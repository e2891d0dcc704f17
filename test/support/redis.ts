import { Redis } from 'ioredis';

/** A plain ioredis connection for checking what a node holds; fails fast, never queues. */
export function inspect(port: number, extra: Record<string, unknown> = {}): Redis {
  return new Redis({
    host: '127.0.0.1',
    port,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
    ...extra,
  });
}

/** Clears data, script cache and command stats on every connection: each test starts clean. */
export async function resetNodes(connections: readonly Redis[]): Promise<void> {
  await Promise.all(
    connections.map((r) => r.multi().flushall().script('FLUSH').config('RESETSTAT').exec()),
  );
}

/** How many lock commands (EVAL/EVALSHA/SET) reached each connection's node since the last reset. */
export async function lockCommandCount(connection: Redis): Promise<number> {
  const info = await connection.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval|set|fcall):calls=(\d+)/gm))
    total += Number(match[2]);
  return total;
}

/** Waits until `predicate` holds, polling every `every` ms, for at most `timeout` ms. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeout = 5_000,
  every = 10,
): Promise<void> {
  const end = performance.now() + timeout;
  while (!(await predicate())) {
    if (performance.now() > end) throw new Error(`condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}
