import type { RedisNode } from './node.js';

/**
 * Raises the fence counter of every node in `to` to the highest counter of `from`, so that a
 * key that settles on its new owner gets fences above every grant its old owners made,
 * whatever the servers' clocks say (docs/safety.md, fences).
 * @param usable - the node of an id, or a throw when it is down
 * @throws the first failure (the sync is tried again later)
 */
export async function syncFences(
  from: readonly string[],
  to: readonly string[],
  usable: (id: string) => RedisNode,
): Promise<void> {
  // `async` callbacks: a node found down fails the sync; it must not strand the other reads.
  const counters = await Promise.all(from.map(async (id) => usable(id).raiseFence(0)));
  const highest = Math.max(0, ...counters);
  await Promise.all(to.map(async (id) => usable(id).raiseFence(highest)));
}
