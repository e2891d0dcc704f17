import type { LockEngine } from '../engine.js';
import type { ShardlockError } from '../errors.js';
import type { NodeState } from '../membership/types.js';
import type { RedisNode } from '../node.js';
import { adminScript, runScript } from './command.js';
import { LUA_FINGERPRINT } from './fingerprint.js';
import { targetsOf } from './targets.js';

/**
 * Reads one key's lease on one node: its holder's fingerprint (never the token), its PTTL,
 * and the node's fence counter. KEYS[1] is the lock key, KEYS[2] the fence counter.
 * Reply: `{ fingerprint or '', pttl (−2: no key), counter }`.
 */
const INSPECT_SCRIPT = adminScript(`
local token = redis.call('GET', KEYS[1])
local counter = redis.call('GET', KEYS[2]) or '0'
if not token then return { '', -2, counter } end
return { ${LUA_FINGERPRINT}, redis.call('PTTL', KEYS[1]), counter }
`);

/** What {@link LockClient.inspect} found on one of the key's nodes. */
export interface InspectedNode {
  readonly nodeId: string;
  /** `host:port`. */
  readonly address: string;
  /** The node's state in this client: `up`, `quarantined`, `down`, `failed-over`, … */
  readonly state: NodeState;
  /** Whether the key holds a lease on this node. */
  readonly held: boolean;
  /** The fingerprint of the token the node holds ({@link fingerprintOf}); `undefined` when free. */
  readonly fingerprint: string | undefined;
  /** ms the lease has left on this node; `undefined` when free, −1 when the key never expires. */
  readonly ttl: number | undefined;
  /**
   * The last fence this node issued (its counter): the holder's fence is at most this, and
   * the next grant's is above it. `undefined` when the node did not answer.
   */
  readonly lastFence: bigint | undefined;
  /** Why the node could not be asked; the other fields then say nothing. */
  readonly error: ShardlockError | undefined;
}

/** What {@link LockClient.inspect} found: the key's lease on every node it may be on. */
export interface LockInspection {
  readonly key: string;
  /**
   * One owner per key: a node of the key holds a lease. Quorum mode: one token holds a
   * majority of one of the key's replica sets (a lease on a minority is no lock).
   */
  readonly held: boolean;
  /** The holder's fingerprint; `undefined` when not held. */
  readonly fingerprint: string | undefined;
  /**
   * ms until the lease ends unless extended: the owner's PTTL, or in quorum mode the time
   * until fewer than a majority still hold it. `undefined` when not held.
   */
  readonly ttl: number | undefined;
  /** The highest {@link InspectedNode.lastFence} of the nodes that answered. */
  readonly lastFence: bigint | undefined;
  /** The client's `replicas` option: 1, 3 or 5. */
  readonly replicas: number;
  /** Each node the lease may be on, the owner (or first replica) first. */
  readonly nodes: readonly InspectedNode[];
}

/**
 * Asks every node `key`'s lease may be on, one script call each, in parallel.
 * @throws the first node's error when no node answered
 */
export async function inspectKey(engine: LockEngine, key: string): Promise<LockInspection> {
  const { nodes, sets } = targetsOf(engine, key);
  const lockKey = `${engine.options.keyPrefix}lock:${key}`;
  const fenceKey = `${engine.options.keyPrefix}fence`;
  const results = await Promise.allSettled(
    nodes.map((node) => runScript(node, 'inspect a lock', INSPECT_SCRIPT, [lockKey, fenceKey])),
  );
  const now = engine.now();
  const inspected = results.map((result, i) => readNode(engine, nodes[i]!, now, result));
  if (inspected.every((node) => node.error !== undefined) && inspected.length > 0) {
    throw inspected[0]!.error!;
  }
  let lastFence: bigint | undefined;
  for (const node of inspected) {
    if (node.lastFence !== undefined && (lastFence === undefined || node.lastFence > lastFence)) {
      lastFence = node.lastFence;
    }
  }
  const holder = sets === undefined ? ownerHolder(inspected) : quorumHolder(inspected, nodes, sets);
  return {
    key,
    held: holder !== undefined,
    fingerprint: holder?.fingerprint,
    ttl: holder?.ttl,
    lastFence,
    replicas: engine.options.replicas,
    nodes: inspected,
  };
}

function readNode(
  engine: LockEngine,
  node: RedisNode,
  now: number,
  result: PromiseSettledResult<unknown>,
): InspectedNode {
  const base = {
    nodeId: node.id,
    address: node.spec.address,
    state: engine.membership.stateOf(node.id, now) ?? 'leaving',
  };
  if (result.status === 'rejected') {
    return {
      ...base,
      held: false,
      fingerprint: undefined,
      ttl: undefined,
      lastFence: undefined,
      error: result.reason as ShardlockError,
    };
  }
  const [fingerprint, pttl, counter] = result.value as [string, number, string];
  const held = fingerprint !== '';
  return {
    ...base,
    held,
    fingerprint: held ? fingerprint : undefined,
    ttl: held ? pttl : undefined,
    lastFence: BigInt(counter),
    error: undefined,
  };
}

interface Holder {
  readonly fingerprint: string;
  readonly ttl: number;
}

/** One owner per key: the owner's lease, else one an old owner still holds (a handoff). */
function ownerHolder(nodes: readonly InspectedNode[]): Holder | undefined {
  const node = nodes.find((n) => n.held);
  return node === undefined ? undefined : { fingerprint: node.fingerprint!, ttl: node.ttl! };
}

/**
 * Quorum mode: a token that holds a majority of one replica set; its lease lasts as long as
 * the majority-th longest of its replicas' leases.
 */
function quorumHolder(
  inspected: readonly InspectedNode[],
  nodes: readonly RedisNode[],
  sets: readonly { readonly members: readonly RedisNode[]; readonly majority: number }[],
): Holder | undefined {
  let best: Holder | undefined;
  for (const set of sets) {
    const byToken = new Map<string, number[]>();
    for (const member of set.members) {
      const node = inspected[nodes.indexOf(member)];
      if (node?.fingerprint === undefined) continue;
      const ttls = byToken.get(node.fingerprint) ?? [];
      // A key without expiry outlasts every lease.
      ttls.push(node.ttl! < 0 ? Number.POSITIVE_INFINITY : node.ttl!);
      byToken.set(node.fingerprint, ttls);
    }
    for (const [fingerprint, ttls] of byToken) {
      if (ttls.length < set.majority) continue;
      ttls.sort((a, b) => b - a);
      const ttl = ttls[set.majority - 1]!;
      if (best === undefined || ttl > best.ttl) {
        best = { fingerprint, ttl: Number.isFinite(ttl) ? ttl : -1 };
      }
    }
  }
  return best;
}
