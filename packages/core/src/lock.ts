import { extendChannel, releaseChannel, type LockTrace } from './diagnostics.js';
import { LockLostError } from './errors.js';
import type { LockEngine } from './engine.js';
import type { LockLostReason } from './events.js';
import type { RedisNode } from './node.js';
import { extendQuorum, releaseQuorum, type QuorumLease } from './quorum.js';
import { OP_ACQUIRE, OP_EXTEND, OP_RELEASE } from './scripts/batch.js';

type LockState = 'held' | 'released' | 'lost';

/**
 * The sum of the nodes' generations. A node's generation only rises (each time it is marked
 * down), so the sum is unchanged exactly when none of them went down: one number, no array.
 * @internal
 */
export function generationOf(nodes: readonly RedisNode[]): number {
  let sum = 0;
  for (const node of nodes) sum += node.generation;
  return sum;
}

/**
 * The nodes of `nodes` whose op's reply was lost (`results` in the same order, maybe longer):
 * the op may still run there later. `undefined` when every reply came (no allocation then).
 * @internal
 */
export function lostReplies(
  nodes: readonly RedisNode[],
  results: readonly PromiseSettledResult<unknown>[],
): RedisNode[] | undefined {
  let lost: RedisNode[] | undefined;
  for (let i = 0; i < nodes.length; i++) {
    if (results[i]!.status === 'rejected') (lost ??= []).push(nodes[i]!);
  }
  return lost;
}

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
  /** The fence as the servers gave it (µs-scale, below 2^53, so exact as a number). */
  readonly #fence: number;
  #fenceBig: bigint | undefined;
  readonly #engine: LockEngine;
  #nodes: readonly RedisNode[];
  /**
   * Nodes that may hold this token besides `#nodes`: an extend placed (or is placing) the
   * lease there during a handoff. A release goes there too (docs/safety.md, races).
   */
  #maybe: RedisNode[] = [];
  /** {@link generationOf} the nodes when the lease was last granted or extended. */
  #generation: number;
  #deadline: number;
  /** When the grant's request was sent (monotonic ms), for the hold-time histogram. */
  readonly #sentAt: number;
  #ttl: number;
  #state: LockState = 'held';
  /** Quorum mode: the replicas that hold the lease, and the sets it needs majorities of. */
  #quorum: QuorumLease | undefined;
  #onLost: ((reason: LockLostReason) => void) | undefined;
  /** Holds its key's turn in this process's line (docs/contention.md): pass it on when done. */
  #inLine = false;

  /** @internal Made by the client; not for direct use. */
  constructor(
    engine: LockEngine,
    nodes: readonly RedisNode[],
    generation: number,
    key: string,
    token: string,
    fence: number,
    ttl: number,
    sentAt: number,
    quorum?: QuorumLease,
  ) {
    this.#engine = engine;
    this.#quorum = quorum;
    this.#nodes = nodes;
    this.#generation = generation;
    this.key = key;
    this.token = token;
    this.#fence = fence;
    this.#ttl = ttl;
    this.#deadline = sentAt + engine.validity(ttl);
    this.#sentAt = sentAt;
  }

  /**
   * Fencing token: strictly greater than the fence of any earlier grant of this key. Pass
   * it to the protected resource, which rejects writes with a fence older than one it saw.
   */
  get fence(): bigint {
    // Made on first read: most locks never show their fence, and a BigInt is an allocation.
    return (this.#fenceBig ??= BigInt(this.#fence));
  }

  /** The node that owns the key (during a handoff the lease is on its old owner too). */
  get nodeId(): string {
    return this.#nodes[this.#nodes.length - 1]!.id;
  }

  /** Every node that holds this lease. */
  get nodeIds(): string[] {
    return this.#nodes.map((node) => node.id);
  }

  /**
   * When this process stops believing it holds the lock: whole epoch ms (`Date.now()` clock),
   * rounded down so it is never later than the monotonic deadline it comes from.
   */
  get validUntil(): number {
    const rt = this.#engine.runtime;
    return Math.floor(rt.wallNow() + (this.#deadline - rt.now()));
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
   * lost, none of its nodes marked down since the grant, and its validity not run out.
   */
  isValid(): boolean {
    return this.#state === 'held' && this.#engine.now() < this.#deadline && this.#nodesStillHold();
  }

  /** None of its nodes went down since the grant; in quorum mode, a majority of each set. */
  #nodesStillHold(): boolean {
    if (this.#quorum !== undefined) return this.#quorum.holds();
    return generationOf(this.#nodes) === this.#generation;
  }

  /** One of its nodes was marked down. @internal */
  nodeLost(): void {
    if (!this.#nodesStillHold()) this.markLost('node-lost');
  }

  /**
   * Renews the lease to `ttl` ms from now (measured from before the request is sent). During
   * a handoff the lease is also placed on the key's new owner.
   * @param ttl - new lease in ms, at most `maxTtl`; defaults to the lock's current TTL
   * @throws {@link LockLostError} when the lock was released or lost (also while the extend
   *   was on its way), or its key no longer holds this lock's token
   * @throws {@link NodeUnavailableError} or {@link NodeQuarantinedError} when a node on the
   *   key's route cannot be reached or may not take the lease now; the lease may still hold
   *   until `validUntil`
   * @throws {@link InvalidArgumentError} for a bad `ttl`
   */
  extend(ttl: number = this.#ttl): Promise<void> {
    if (!extendChannel.hasSubscribers) return this.#extend(ttl);
    return extendChannel.tracePromise(() => this.#extend(ttl), this.#trace());
  }

  #trace(): LockTrace {
    return { client: this.#engine.client, key: this.key, fence: this.fence, lock: this };
  }

  async #extend(ttl: number): Promise<void> {
    const checked = this.#engine.checkTtl(ttl);
    if (this.#state === 'held' && !this.#nodesStillHold()) this.markLost('node-lost');
    // A lease whose validity has run out is not renewed: this process stopped believing it
    // (found in the simulator: a process that stalled past its lease renewed it on waking).
    if (this.#state === 'held' && this.#engine.now() >= this.#deadline) this.markLost('expired');
    if (this.#state !== 'held') throw this.#gone('cannot be extended');
    if (this.#quorum !== undefined) return this.#extendQuorum(this.#quorum, checked);
    const { held, added } = this.#targets(await this.#engine.routeNow(this.key));
    const sentAt = this.#engine.now();
    if (this.#isHeld() && sentAt >= this.#deadline) this.markLost('expired');
    if (!this.#isHeld()) throw this.#gone('was not extended');
    for (const node of added) if (!this.#maybe.includes(node)) this.#maybe.push(node);
    const generation = generationOf(held) + generationOf(added);
    const engine = this.#engine;
    const results = await Promise.allSettled([
      ...held.map((node) => engine.send(node, this.key, OP_EXTEND, this.token, checked)),
      ...added.map((node) =>
        engine.send(node, this.key, OP_ACQUIRE, this.token, checked, this.#fence),
      ),
    ]);
    const late = lostReplies(held, results);
    if (late !== undefined) this.#releaseWhenOver(late);
    const refused =
      this.#isHeld() &&
      results.some(
        (result, i) =>
          result.status === 'fulfilled' &&
          (i < held.length ? result.value !== 1 : result.value < 0),
      );
    if (refused) this.markLost('not-owner');
    const failure = results.find((result) => result.status === 'rejected');
    // Refused or lost (also while the replies travelled), or failed: what this extend placed
    // or renewed is believed by nobody (released meanwhile: the release also went to `added`).
    if (this.#isLost() || (failure !== undefined && this.#isHeld())) {
      this.#takeBack(held, added, results);
    }
    if (refused) {
      throw new LockLostError(
        `lock on ${JSON.stringify(this.key)} is no longer held by this token (expired or taken)`,
        { key: this.key, nodeId: this.nodeId },
      );
    }
    if (!this.#isHeld()) throw this.#gone('was not extended');
    if (failure !== undefined) throw failure.reason;
    const nodes = [...held, ...added];
    this.#maybe = this.#maybe.filter((node) => !nodes.includes(node));
    // A node let go keeps the lease until its TTL unless the release also goes there: a
    // release leaves nothing of the token behind (found in the simulator).
    for (const node of this.#nodes) {
      if (!nodes.includes(node) && !this.#maybe.includes(node)) this.#maybe.push(node);
    }
    engine.unhold(this, this.#nodes);
    engine.hold(this, nodes);
    this.#nodes = nodes;
    this.#generation = generation;
    this.#ttl = checked;
    this.#deadline = sentAt + engine.validity(checked);
  }

  /**
   * After an extend that did not renew the lock (refused, failed on a node, or the lock found
   * lost while its replies travelled): what it renewed or placed ends at the lease's old
   * deadline unless the holder renews meanwhile, as the holder may still be working under
   * the lease it had. Once the lock is lost, what it placed on nodes that did not hold the
   * lease is taken back at once: nobody ever believed it there (found in the simulator:
   * `pnpm sim --seed 763` left such a grant for a whole TTL).
   */
  #takeBack(
    held: readonly RedisNode[],
    added: readonly RedisNode[],
    results: readonly PromiseSettledResult<number>[],
  ): void {
    const took = (i: number): boolean => {
      const result = results[i]!;
      return (
        result.status === 'fulfilled' && (i < held.length ? result.value === 1 : result.value > 0)
      );
    };
    const lost = this.#isLost();
    const later = held.filter((_, i) => took(i));
    added.forEach((node, i) => {
      if (!took(held.length + i)) return;
      if (lost) this.#engine.releaseOn(node, this);
      else later.push(node);
    });
    if (later.length > 0) this.#releaseWhenOver(later);
  }

  async #extendQuorum(lease: QuorumLease, ttl: number): Promise<void> {
    let renewed: Awaited<ReturnType<typeof extendQuorum>>;
    try {
      renewed = await extendQuorum(this.#engine, lease, this, ttl, {
        deadline: this.#deadline,
        held: () => this.#isHeld(),
        placing: (nodes) => {
          for (const node of nodes) if (!this.#maybe.includes(node)) this.#maybe.push(node);
        },
        late: (nodes) => this.#releaseWhenOver(nodes),
      });
    } catch (error) {
      if (error instanceof LockLostError) this.markLost('not-owner');
      throw error;
    }
    if (renewed === 'expired') this.markLost('expired');
    if (!this.#isHeld() || typeof renewed === 'string') throw this.#gone('was not extended');
    this.#engine.unhold(this, this.#nodes);
    this.#nodes = renewed.lease.nodes;
    this.#engine.hold(this, this.#nodes);
    this.#quorum = renewed.lease;
    this.#ttl = ttl;
    this.#deadline = renewed.sentAt + this.#engine.validity(ttl);
  }

  /**
   * An extend whose reply was lost may still run on its node (a paused server runs it when it
   * resumes) and renew the lease a TTL from then, after the holder gave up. Once the lease as
   * it stood has run out, and no extend renewed it meanwhile, the token is released there:
   * not before, as the holder may still work under it (docs/safety.md, lost replies; found in
   * the simulator: a lock lost while its extend sat in a paused node).
   */
  #releaseWhenOver(nodes: readonly RedisNode[]): void {
    const rt = this.#engine.runtime;
    const check = (): void => {
      if (this.#isHeld() && rt.now() < this.#deadline) {
        rt.setTimeout(check, this.#deadline - rt.now());
        return;
      }
      // A release went to every node that may hold the token, after the extend.
      if (this.#state === 'released') return;
      for (const node of nodes) if (!node.closed) this.#engine.releaseOn(node, this);
    };
    rt.setTimeout(check, Math.max(0, this.#deadline - rt.now()));
  }

  /**
   * Where an extend goes: the nodes that hold the lease and still route the key, and the
   * key's owners that do not hold it yet (a handoff began). An extend renews what the holder
   * believes, so, as an acquire, it must cover the whole route: when a node on it cannot take
   * the lease (quarantined, not met yet), the extend fails, and the lease runs out where it is
   * (found in the simulator: renewing it on an old owner alone outlived other clients'
   * windows). A node that no longer routes the key is let go: its lease lapses by its TTL.
   */
  #targets(route: readonly RedisNode[]): { held: RedisNode[]; added: RedisNode[] } {
    const held = this.#nodes.filter((node) => route.includes(node));
    const added = route.filter((node) => !this.#nodes.includes(node));
    // Without a node that holds the lease there is nothing to renew from: the extend must
    // find the lease where it was granted (and fail there if it is gone).
    return held.length > 0 ? { held, added } : { held: [...this.#nodes], added };
  }

  /**
   * Releases the lock if it is still ours, on every node that may hold it.
   * @returns `true` when every node that held the lease had this lock's token and deleted it;
   *   `false` when it had expired, been lost, or was released already
   * @throws {@link NodeUnavailableError} when a node cannot be reached (the lease then
   *   expires by its TTL, and the client deletes it when the node answers again)
   */
  release(): Promise<boolean> {
    if (!releaseChannel.hasSubscribers) return this.#release();
    return releaseChannel.tracePromise(() => this.#release(), this.#trace());
  }

  #release(): Promise<boolean> {
    if (this.#state === 'released') return Promise.resolve(false);
    const before = this.#state;
    this.#state = 'released';
    this.#onLost = undefined;
    const engine = this.#engine;
    engine.unhold(this, this.#nodes);
    if (before === 'held') engine.metrics.released(engine.now() - this.#sentAt);
    if (this.#quorum !== undefined) {
      // Never throws: a replica that cannot be reached is owed the release (quorum.ts).
      return releaseQuorum(engine, this.#quorum, this.key, this.token, this.#maybe).then(
        (released) => {
          this.#leaveLine(false);
          return released && before === 'held';
        },
      );
    }
    return this.#releaseOwned(before);
  }

  #releaseOwned(before: LockState): Promise<boolean> {
    const only = this.#nodes.length === 1 && this.#maybe.length === 0 ? this.#nodes[0]! : undefined;
    if (only === undefined || only.closed) return this.#releaseAll(before);
    // One promise for the release, resolved from the op's callback (docs/performance.md).
    return new Promise((resolve, reject) => {
      this.#engine.sendWith(only, this.key, OP_RELEASE, this.token, 0, (reply, error) => {
        if (error === undefined) {
          resolve(reply === 1 && before === 'held');
          return;
        }
        // Not released: calling release() again retries (the lease also expires by its TTL).
        this.#state = before;
        reject(error);
      });
      // The next local waiter's try goes into the same batch, right behind the release.
      this.#leaveLine(true);
    });
  }

  async #releaseAll(before: LockState): Promise<boolean> {
    const engine = this.#engine;
    try {
      // A removed node's connection is closed and its lease moot: nothing routes the key there.
      const nodes = this.#nodes.filter((node) => !node.closed);
      const maybe = this.#maybe.filter((node) => !node.closed && !nodes.includes(node));
      const replies = await Promise.all(
        [...nodes, ...maybe].map((node) => engine.send(node, this.key, OP_RELEASE, this.token, 0)),
      );
      this.#maybe = [];
      this.#leaveLine(false);
      return (
        nodes.length > 0 &&
        before === 'held' &&
        replies.every((r, i) => i >= nodes.length || r === 1)
      );
    } catch (error) {
      // Not released: calling release() again retries (the lease also expires by its TTL).
      // The local line moves on all the same: its next waiter finds the key held, and waits.
      this.#state = before;
      this.#leaveLine(false);
      throw error;
    }
  }

  /**
   * The acquire took its turn in the key's local line; the lock keeps it until released or
   * lost (docs/contention.md). @internal
   */
  joinLine(): void {
    if (this.#state === 'held') this.#inLine = true;
    else this.#engine.turns.pass(this.key, this, false);
  }

  #leaveLine(handoff: boolean): void {
    if (!this.#inLine) return;
    this.#inLine = false;
    this.#engine.turns.pass(this.key, this, handoff);
  }

  // A method, not a field read: TypeScript would take the state checked before an await as
  // still true after it.
  #isHeld(): boolean {
    return this.#state === 'held';
  }

  #isLost(): boolean {
    return this.#state === 'lost';
  }

  /** Releases the lock; for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  #gone(what: string): LockLostError {
    return new LockLostError(`lock on ${JSON.stringify(this.key)} was ${this.#state}; it ${what}`, {
      key: this.key,
      nodeId: this.nodeId,
    });
  }

  /** Stops believing: the lock was found lost. @internal */
  markLost(reason: LockLostReason): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#engine.unhold(this, this.#nodes);
    this.#engine.reportLost(this, reason);
    const onLost = this.#onLost;
    this.#onLost = undefined;
    onLost?.(reason);
    this.#leaveLine(false);
  }

  /** Calls `listener` once, when the lock is found lost. @internal */
  onLost(listener: ((reason: LockLostReason) => void) | undefined): void {
    this.#onLost = listener;
  }

  /** The nodes that hold the lease. @internal */
  get nodes(): readonly RedisNode[] {
    return this.#nodes;
  }
}
