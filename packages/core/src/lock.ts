import { LockLostError } from './errors.js';
import type { LockEngine } from './engine.js';
import type { RedisNode } from './node.js';
import { OP_EXTEND, OP_RELEASE } from './scripts/batch.js';

type LockState = 'held' | 'released' | 'lost';

/**
 * A granted lock: a lease on `key` that this process believes until `validUntil`.
 * Release it (or let `await using` do so); a lock that is not released expires by its TTL.
 *
 * @example
 * ```ts
 * await using lock = await client.acquire('order:42', { ttl: 5_000 });
 * await db.update(order, { fence: lock.fence }); // the resource rejects stale fences
 * ```
 */
export class Lock implements AsyncDisposable {
  /** The key, as given to `acquire()` (without the prefix). */
  readonly key: string;
  /** This grant's random token; only it can extend or release the lock. */
  readonly token: string;
  /**
   * Fencing token: strictly greater than the fence of any earlier grant of this key. Pass
   * it to the protected resource, which rejects writes with a fence older than one it saw.
   */
  readonly fence: bigint;
  /** The node that granted the lock. */
  readonly nodeId: string;
  readonly #engine: LockEngine;
  readonly #node: RedisNode;
  #generation: number;
  #deadline: number;
  #wallDeadline: number;
  #ttl: number;
  #state: LockState = 'held';

  /** @internal Made by the client; not for direct use. */
  constructor(
    engine: LockEngine,
    node: RedisNode,
    key: string,
    token: string,
    fence: number,
    ttl: number,
    sentAt: number,
    generation: number,
  ) {
    this.#engine = engine;
    this.#node = node;
    this.key = key;
    this.token = token;
    this.fence = BigInt(fence);
    this.nodeId = node.id;
    this.#generation = generation;
    this.#ttl = ttl;
    this.#deadline = sentAt + engine.validity(ttl);
    this.#wallDeadline = Date.now() + (this.#deadline - performance.now());
  }

  /** When this process stops believing it holds the lock: epoch ms (`Date.now()` clock). */
  get validUntil(): number {
    return this.#wallDeadline;
  }

  /** When this process stops believing it holds the lock, on the monotonic `performance.now()` clock. */
  get deadline(): number {
    return this.#deadline;
  }

  /** The TTL of the last grant or extension, in ms. */
  get ttl(): number {
    return this.#ttl;
  }

  /**
   * Whether the lock is still ours as far as this process can tell: not released, not found
   * lost, its node's connection not lost since the grant, and its validity not run out.
   */
  isValid(): boolean {
    return (
      this.#state === 'held' &&
      this.#node.generation === this.#generation &&
      performance.now() < this.#deadline
    );
  }

  /**
   * Renews the lease to `ttl` ms from now (measured from before the request is sent).
   * @param ttl - new lease in ms, at most `maxTtl`; defaults to the lock's current TTL
   * @throws {@link LockLostError} when the key no longer holds this lock's token
   * @throws {@link NodeUnavailableError} when the node cannot be reached; the lease may still
   *   hold until `validUntil`
   * @throws {@link InvalidArgumentError} for a bad `ttl`
   */
  async extend(ttl: number = this.#ttl): Promise<void> {
    const checked = this.#engine.checkTtl(ttl);
    if (this.#state !== 'held') {
      throw new LockLostError(
        `lock on ${JSON.stringify(this.key)} was ${this.#state}; it cannot be extended`,
        { key: this.key, nodeId: this.nodeId },
      );
    }
    const sentAt = performance.now();
    const generation = this.#node.generation;
    const reply = await this.#engine.send(this.#node, this.key, OP_EXTEND, this.token, checked);
    if (reply !== 1) {
      this.markLost('not-owner');
      throw new LockLostError(
        `lock on ${JSON.stringify(this.key)} is no longer held by this token (expired or taken)`,
        { key: this.key, nodeId: this.nodeId },
      );
    }
    // A loss found while the reply travelled wins over the extension.
    if (this.#lost()) return;
    this.#ttl = checked;
    this.#generation = generation;
    this.#deadline = sentAt + this.#engine.validity(checked);
    this.#wallDeadline = Date.now() + (this.#deadline - performance.now());
  }

  /**
   * Releases the lock if it is still ours.
   * @returns `true` when the key held this lock's token and was deleted; `false` when it had
   *   expired, been lost, or was released already
   * @throws {@link NodeUnavailableError} when the node cannot be reached (the lock then
   *   expires by its TTL; calling `release()` again retries)
   */
  async release(): Promise<boolean> {
    if (this.#state === 'released') return false;
    const reply = await this.#engine.send(this.#node, this.key, OP_RELEASE, this.token, 0);
    this.#state = 'released';
    return reply === 1;
  }

  /** Releases the lock; for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  #lost(): boolean {
    return this.#state !== 'held';
  }

  /** Stops believing: the lock was found lost. @internal */
  markLost(reason: 'not-owner' | 'node-lost' | 'expired'): void {
    // A loss found while the reply travelled wins over the extension.
    if (this.#lost()) return;
    this.#state = 'lost';
    this.#engine.reportLost(this, reason);
  }

  /** The node that granted this lock. @internal */
  get node(): RedisNode {
    return this.#node;
  }
}
