import type { LockEngine } from '../engine.js';
import { NodeUnavailableError } from '../errors.js';
import type { RedisNode } from '../node.js';

/** Where a key's lease may be, for an operator's look at it. */
export interface KeyTargets {
  /** Every node the lease may be on, each once, in preference order. */
  readonly nodes: readonly RedisNode[];
  /**
   * Quorum mode: the key's replica sets (a lease holds on a majority of one); one owner per
   * key: `undefined` (a lease holds on any node that has it).
   */
  readonly sets:
    readonly { readonly members: readonly RedisNode[]; readonly majority: number }[] | undefined;
}

/**
 * The nodes `key`'s lease may be on now, as this client routes it: with one owner per key its
 * route (during a handoff window the old owners too), with replicas every member of its replica
 * sets. A node that cannot serve the key now (down, quarantined, not yet met) is still listed
 * from the ring: an operator wants to see it, and its error, rather than no answer.
 * @throws {@link NodeUnavailableError} when no node is on the ring
 */
export function targetsOf(engine: LockEngine, key: string): KeyTargets {
  const { membership, pool } = engine;
  const ring = membership.ring;
  const now = engine.now();
  const replicas = engine.options.replicas;
  if (replicas > 1) {
    try {
      const sets = membership.replicaSets(key, now);
      const nodes: RedisNode[] = [];
      for (const set of sets)
        for (const node of set.members) if (!nodes.includes(node)) nodes.push(node);
      return { nodes, sets: sets.map((set) => ({ members: set.members, majority: set.majority })) };
    } catch {
      // Too few voters, a member not met yet: the ring still says which nodes they are.
    }
  } else {
    try {
      // The owner is last on a route; an operator reads the owner first.
      return { nodes: [...engine.route(key)].reverse(), sets: undefined };
    } catch {
      // The owner is down or quarantined: ask it all the same, below.
    }
  }
  if (ring.size === 0) {
    throw new NodeUnavailableError('no node is serving: every node is removed or failed over', {
      key,
    });
  }
  const ids = replicas > 1 ? ring.owners(key, Math.min(replicas, ring.size)) : [ring.owner(key)];
  const nodes = ids.flatMap((id) => {
    const node = pool.nodes.get(id);
    return node === undefined ? [] : [node];
  });
  const sets =
    replicas > 1 ? [{ members: nodes, majority: Math.floor(ids.length / 2) + 1 }] : undefined;
  return { nodes, sets };
}
