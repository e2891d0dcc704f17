import { EventEmitter } from 'node:events';
import type { Member } from './membership.js';
import { parseNodeSpec, type NodeSpec } from './node-spec.js';
import { acquireLock } from './acquire.js';
import { acquireMany, checkKeys } from './acquire-many.js';
import {
  resolveAcquireOptions,
  type AcquireOptions,
  type WithLockOptions,
} from './acquire-options.js';
import { LockEngine, type Emit } from './engine.js';
import { InvalidArgumentError } from './errors.js';
import type { LockClientEvents } from './events.js';
import type { Lock } from './lock.js';
import type { LockGroup } from './lock-group.js';
import {
  resolveClientOptions,
  type LockClientOptions,
  type ResolvedClientOptions,
} from './options.js';
import { received } from './validate.js';
import { withLock, type LockedWork } from './with-lock.js';

/** One node as `stats()` reports it. */
export interface NodeStats {
  readonly id: string;
  /** `host:port`. */
  readonly address: string;
  /** `up`, `quarantined` (up, not yet trusted), `down`, `failed-over` (its keys moved on) or `leaving`. */
  readonly state: 'up' | 'quarantined' | 'down' | 'failed-over' | 'leaving';
  /** ioredis connection status: `ready`, `connecting`, `reconnecting`, `end`, … */
  readonly status: string;
  /** The node's exact share of the key space, from 0 to 1. */
  readonly share: number;
  /** Lock commands sent to the node and not yet answered. */
  readonly inFlight: number;
  /** Times the node was marked down. */
  readonly generation: number;
  /** ms until a quarantine ends; 0 when none. */
  readonly quarantinedFor: number;
}

function nodeState(member: Member, now: number): NodeStats['state'] {
  if (member.leaving) return 'leaving';
  if (member.failedOver) return 'failed-over';
  if (member.downSince !== undefined) return 'down';
  return member.quarantineUntil > now ? 'quarantined' : 'up';
}

/**
 * A lock client sharded over many independent Redis nodes: each key's acquire, extend and
 * release go to the node that owns the key on a consistent-hash ring, as single atomic
 * token-checked scripts, batched per node and tick.
 *
 * @example
 * ```ts
 * const client = new LockClient({ nodes: [{ id: 'a', port: 7001 }, { id: 'b', port: 7002 }] });
 * await client.withLock('order:42', async (signal, lock) => {
 *   await ship(order, { signal, fence: lock.fence });
 * }, { ttl: 5_000 });
 * await client.close();
 * ```
 */
export class LockClient extends EventEmitter<LockClientEvents> {
  readonly #engine: LockEngine;

  /**
   * Validates the options and connects to every node (in the background: the first
   * command to a node waits for its first connection attempt).
   * @throws {@link InvalidArgumentError} for bad options or node specs; nothing connects then
   */
  constructor(options: LockClientOptions) {
    super();
    const resolved = resolveClientOptions(options);
    // The engine emits through the client; the cast only bridges EventEmitter's generic types.
    this.#engine = new LockEngine(resolved, this.emit.bind(this) as unknown as Emit);
  }

  /** The resolved options, defaults applied. */
  get options(): ResolvedClientOptions {
    return this.#engine.options;
  }

  /**
   * Acquires `key`, waiting with backoff while another owner holds it.
   * @throws {@link LockTimeoutError} when retries or `waitTimeout` run out
   * @throws {@link LockAbortedError} when `options.signal` aborts
   * @throws {@link NodeUnavailableError} when the key's node cannot be reached
   * @throws {@link InvalidArgumentError} for a bad key or option, before anything is sent
   */
  async acquire(key: string, options?: AcquireOptions): Promise<Lock> {
    this.#engine.checkOpen();
    const checked = this.#engine.checkKey(key);
    return acquireLock(this.#engine, checked, resolveAcquireOptions(this.#engine, options));
  }

  /**
   * One attempt: the lock, or `null` when another owner holds the key.
   * @throws as {@link LockClient.acquire}, except `LockTimeoutError`
   */
  async tryAcquire(
    key: string,
    options?: Omit<AcquireOptions, 'retry' | 'waitTimeout'>,
  ): Promise<Lock | null> {
    this.#engine.checkOpen();
    const checked = this.#engine.checkKey(key);
    const resolved = resolveAcquireOptions(this.#engine, options);
    const result = await this.#engine.tryOnce(checked, this.#engine.token(), resolved.ttl);
    if (typeof result === 'number') return null;
    if (resolved.signal?.aborted === true) {
      await result.release();
      return null;
    }
    return result;
  }

  /**
   * Runs `work` while holding `key`, then releases it. With `autoExtend` (the default) the
   * lease is renewed in the background; `work`'s signal aborts with a `LockLostError` reason
   * when the lock is lost or its validity is about to end.
   * @returns what `work` returns
   * @throws what `acquire` throws, or what `work` throws
   */
  async withLock<T>(key: string, work: LockedWork<T>, options?: WithLockOptions): Promise<T> {
    this.#engine.checkOpen();
    const checked = this.#engine.checkKey(key);
    if (typeof work !== 'function') {
      throw new InvalidArgumentError(`withLock needs a function, received ${received(work)}`, {
        key: checked,
      });
    }
    return withLock(
      this.#engine,
      checked,
      work,
      resolveAcquireOptions(this.#engine, options, true),
    );
  }

  /**
   * Locks every key or none; the keys may live on different nodes. Two calls with
   * overlapping keys never deadlock: an attempt that cannot take every key releases what
   * it took before it waits.
   * @throws as {@link LockClient.acquire}; nothing stays locked after a throw
   */
  async acquireMany(keys: readonly string[], options?: AcquireOptions): Promise<LockGroup> {
    this.#engine.checkOpen();
    const checked = checkKeys(this.#engine, keys);
    return acquireMany(this.#engine, checked, resolveAcquireOptions(this.#engine, options));
  }

  /** The node that owns `key` in the serving ring now. */
  nodeFor(key: string): string {
    return this.#engine.ownerOf(this.#engine.checkKey(key));
  }

  /** The serving ring's epoch: it rises with every membership change. */
  get epoch(): number {
    return this.#engine.membership.epoch;
  }

  /**
   * Adds a node while traffic flows. Resolves once the node is up, trusted (a server that
   * started less than `maxTtl` ago may have restarted empty, so it waits that out) and on the
   * ring. Keys that move to it keep winning on their old owners for `handoffWindow`, so
   * clients that apply the same change up to `handoffWindow − maxTtl − drift` later stay safe (drift: `maxTtl × driftFactor + 2` ms).
   * @throws {@link InvalidArgumentError} for a bad spec or an id or address already used
   * @throws {@link NodeUnavailableError} when the node does not come up within `connectTimeout` ms
   */
  async addNode(spec: NodeSpec, connectTimeout = 10_000): Promise<void> {
    this.#engine.checkOpen();
    const parsed = parseNodeSpec(spec);
    for (const member of this.#engine.membership.members.values()) {
      if (member.node.id === parsed.id || member.node.spec.address === parsed.address) {
        throw new InvalidArgumentError(
          `node ${JSON.stringify(parsed.id)} (${parsed.address}) is already a member`,
          { nodeId: parsed.id },
        );
      }
    }
    await this.#engine.addNode(parsed, connectTimeout);
  }

  /**
   * Removes a node while traffic flows. Its keys move at once to their next nodes on the
   * ring, and keep winning on it too until `handoffWindow` has passed; then its connection
   * closes.
   * @throws {@link InvalidArgumentError} for an unknown id, or the last serving node
   */
  removeNode(id: string): void {
    this.#engine.checkOpen();
    const member = this.#engine.membership.members.get(id);
    if (member === undefined || member.leaving) {
      throw new InvalidArgumentError(`node ${received(id)} is not a member`, {
        nodeId: typeof id === 'string' ? id : undefined,
      });
    }
    if (this.#engine.membership.ring.size === 1 && this.#engine.membership.ring.has(id)) {
      throw new InvalidArgumentError(`node ${JSON.stringify(id)} is the last serving node`, {
        nodeId: id,
      });
    }
    this.#engine.membership.leave(id);
  }

  /** Each node's state, share of the ring and in-flight commands. */
  stats(): NodeStats[] {
    const membership = this.#engine.membership;
    const shares = membership.ring.shares();
    const now = performance.now();
    return [...membership.members.values()].map((member) => ({
      id: member.node.id,
      address: member.node.spec.address,
      state: nodeState(member, now),
      status: member.node.status,
      share: shares.get(member.node.id) ?? 0,
      inFlight: member.node.inFlight,
      generation: member.node.generation,
      quarantinedFor: Math.max(0, Math.round(member.quarantineUntil - now)),
    }));
  }

  /**
   * Closes every connection after the commands already sent are answered. Locks still
   * held are not released: they expire by their TTL.
   */
  async close(): Promise<void> {
    await this.#engine.close();
  }
}
