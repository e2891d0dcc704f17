import { batchChannel, type BatchMessage } from './diagnostics.js';
import { ClientMetrics } from './metrics.js';
import { asError, CommandError, InvalidArgumentError, type ShardlockError } from './errors.js';
import type { LockLostReason } from './events.js';
import { generationOf, Lock } from './lock.js';
import { ContactPending, Stalled, type Membership } from './membership/membership.js';
import type { ReplicaSet } from './membership/types.js';
import type { RedisNode } from './node.js';
import { minTtlOf, type ResolvedClientOptions } from './options.js';
import { NodePool } from './pool.js';
import type { Emit } from './events.js';
import type { Runtime } from './runtime.js';
import { tryQuorum } from './quorum.js';
import {
  needsCleanup,
  OP_ACQUIRE,
  OP_FORGET,
  OP_RELEASE,
  opArg,
  type BatchReply,
} from './scripts/batch.js';
import { Turns } from './turns.js';
import { Wakeups } from './wake.js';
import { received } from './validate.js';

// Past this many locks tracked on one node, expired ones are dropped (a lock the caller
// never released stays tracked until then); the bound doubles with the live count.
const PRUNE_FROM = 1_024;

/**
 * The state behind a client: its nodes, the locks it holds on each, and the one-attempt
 * primitives that `acquire`, `withLock` and `acquireMany` are built from.
 */
export class LockEngine {
  readonly options: ResolvedClientOptions;
  readonly runtime: Runtime;
  readonly #pool: NodePool;
  readonly #emit: Emit;
  readonly #lockPrefix: string;
  readonly #minTtl: number;
  /** Locks held on each node: told at once when the node is marked down. */
  readonly #held = new Map<RedisNode, { locks: Set<Lock>; pruneAt: number }>();
  /** Quorum mode: the highest fence this client proposed or saw a replica hold. */
  #fenceSeen = 0;

  /** The `LockClient` this engine serves, as diagnostics channel messages name it. */
  readonly client: object;
  /** Counters and histograms of `client.metrics()`. */
  readonly metrics = new ClientMetrics();
  /** The local lines: one acquire per key and process asks Redis (docs/contention.md). */
  readonly turns: Turns;
  /** Waiters waiting for releases, and the nodes' wake-up subscribers. */
  readonly wakeups: Wakeups;

  /**
   * @param options - validated client options
   * @param runtime - clocks, timers, tokens, connections
   * @param emit - forwards events to the client
   * @param client - the client, for diagnostics channel messages
   */
  constructor(options: ResolvedClientOptions, runtime: Runtime, emit: Emit, client: object) {
    this.options = options;
    this.runtime = runtime;
    this.#emit = emit;
    this.client = client;
    this.#lockPrefix = `${options.keyPrefix}lock:`;
    this.turns = new Turns(runtime);
    this.wakeups = new Wakeups(runtime, (error) => this.reportBackground(error));
    this.#minTtl = minTtlOf(options.driftFactor);
    this.#pool = new NodePool(
      options,
      runtime,
      emit,
      (node) => this.#nodeLost(node),
      (node, size, roundTrip, failed) => {
        this.metrics.batch(node.id, size, roundTrip, failed);
        if (batchChannel.hasSubscribers) {
          batchChannel.publish({
            client,
            nodeId: node.id,
            size,
            roundTrip,
            failed,
          } satisfies BatchMessage);
        }
      },
    );
  }

  /** The node pool. */
  get pool(): NodePool {
    return this.#pool;
  }

  /** Membership: members, serving ring, epoch. */
  get membership(): Membership<RedisNode> {
    return this.#pool.membership;
  }

  /** Throws when the client is closed or refused to start. */
  checkOpen(): void {
    this.#pool.check();
  }

  /**
   * Validates a key: 1 to `maxKeyLength` UTF-16 code units, well-formed (a lone surrogate
   * would make two keys one Redis key).
   * @throws {@link InvalidArgumentError}
   */
  checkKey(key: unknown): string {
    if (
      typeof key !== 'string' ||
      key.length === 0 ||
      key.length > this.options.maxKeyLength ||
      !key.isWellFormed()
    ) {
      throw new InvalidArgumentError(
        `a lock key must be a string of 1 to ${this.options.maxKeyLength} characters, well-formed UTF-16 (no lone surrogate), received ${received(key)}`,
      );
    }
    return key;
  }

  /**
   * Validates a TTL: an integer from the shortest lease that leaves validity after drift to
   * `maxTtl` ms.
   * @throws {@link InvalidArgumentError}
   */
  checkTtl(ttl: unknown): number {
    if (
      typeof ttl !== 'number' ||
      !Number.isInteger(ttl) ||
      ttl < this.#minTtl ||
      ttl > this.options.maxTtl
    ) {
      throw new InvalidArgumentError(
        `ttl must be an integer from ${this.#minTtl} (the shortest lease that leaves validity after drift) to ${this.options.maxTtl} ms (maxTtl), received ${received(ttl)}`,
      );
    }
    return ttl;
  }

  /** How long a lease of `ttl` ms is believed from the moment its request was sent. */
  validity(ttl: number): number {
    return ttl - (ttl * this.options.driftFactor + 2);
  }

  /** Monotonic ms. */
  now(): number {
    return this.runtime.now();
  }

  /**
   * The nodes that must all hold `key` now, without waiting.
   * @throws {@link NodeQuarantinedError}, {@link NodeUnavailableError}, or `ContactPending`
   */
  route(key: string): readonly RedisNode[] {
    return this.#pool.membership.route(key, this.runtime.now());
  }

  /**
   * The nodes that must all hold `key` now, waiting for a node's first contact (or a stall's
   * reckoning) when one is on the route.
   * @throws {@link NodeQuarantinedError} or {@link NodeUnavailableError}
   */
  routeNow(key: string): Promise<readonly RedisNode[]> | readonly RedisNode[] {
    // Every route waits for changes asked before the start, not only one that meets a node
    // not reached yet (a call right after the start routed on the list of before).
    if (this.#pool.holdingRoutes) return this.#pool.routeAfterContact(key);
    try {
      return this.route(key);
    } catch (error) {
      if (!(error instanceof ContactPending) && !(error instanceof Stalled)) throw error;
      return this.#pool.routeAfterContact(key);
    }
  }

  /**
   * Quorum mode: `key`'s replica sets now, or after the waits {@link routeNow} makes.
   * @throws as `Membership.replicaSets`
   */
  replicaSetsNow(
    key: string,
  ): Promise<readonly ReplicaSet<RedisNode>[]> | readonly ReplicaSet<RedisNode>[] {
    if (this.#pool.holdingRoutes) return this.#pool.replicaSetsAfterContact(key);
    try {
      return this.#pool.membership.replicaSets(key, this.runtime.now());
    } catch (error) {
      if (!(error instanceof ContactPending) && !(error instanceof Stalled)) throw error;
      return this.#pool.replicaSetsAfterContact(key);
    }
  }

  /** Sends one op on `key` to `node` in this tick's batch. */
  send(
    node: RedisNode,
    key: string,
    op: string,
    token: string,
    ttl: number,
    floor = 0,
  ): Promise<number> {
    // Acquires and releases whose replies are lost are released when the node answers again;
    // an extend's is not (the lock still holds there and decides for itself).
    const sent = node.run(this.#lockPrefix + key, opArg(op, token, ttl, floor), needsCleanup(op));
    return sent.then((reply) => this.#number(reply, node, key));
  }

  /**
   * As {@link send}, the reply (or the error of its call, or of the server's refusal) going
   * to `done`: no promise per op, for the one-owner acquire and release (docs/performance.md).
   * `done` must not throw.
   */
  sendWith(
    node: RedisNode,
    key: string,
    op: string,
    token: string,
    ttl: number,
    done: (reply: number, error: Error | undefined) => void,
  ): void {
    node.runWith(
      this.#lockPrefix + key,
      opArg(op, token, ttl, 0),
      needsCleanup(op),
      (reply, error) => {
        if (error !== undefined) done(0, error);
        else if (typeof reply === 'number') done(reply, undefined);
        else done(0, this.refusal(String(reply), node, key));
      },
    );
  }

  /** The Redis key of lock `key`. */
  redisKey(key: string): string {
    return this.#lockPrefix + key;
  }

  /**
   * Sends the same op to every node of `nodes` at once (each in its node's batch of this
   * tick); resolves, never rejects, when all have answered, with each node's reply or error
   * in `nodes`' order. One promise for the lot (the quorum hot path).
   */
  sendAll(
    nodes: readonly RedisNode[],
    redisKey: string,
    arg: string,
  ): Promise<(BatchReply | Error)[]> {
    return new Promise((resolve) => {
      const replies = new Array<BatchReply | Error>(nodes.length);
      let left = nodes.length;
      if (left === 0) resolve(replies);
      for (let i = 0; i < nodes.length; i++) {
        nodes[i]!.runWith(redisKey, arg, true, (reply, error) => {
          replies[i] = error ?? reply!;
          if (--left === 0) resolve(replies);
        });
      }
    });
  }

  #number(reply: BatchReply, node: RedisNode, key: string): number {
    if (typeof reply === 'number') return reply;
    throw this.refusal(reply, node, key);
  }

  /** The error of an op the server refused (`E` and its message). */
  refusal(reply: string, node: RedisNode, key: string): CommandError {
    return new CommandError(
      `node ${JSON.stringify(node.id)} refused the lock operation on ${JSON.stringify(key)}: ${reply.slice(1)}`,
      { key, nodeId: node.id },
    );
  }

  /**
   * Quorum mode: the fence the next grant proposes, above every one this client proposed or
   * saw; from the wall clock in µs, so that fences of different clients interleave sensibly
   * (a replica whose counter is higher says so, and the next round proposes above it).
   */
  proposeFence(): number {
    this.#fenceSeen = Math.max(Math.floor(this.runtime.wallNow() * 1000), this.#fenceSeen + 1);
    return this.#fenceSeen;
  }

  /** Quorum mode: a fence a replica issued or holds. */
  sawFence(fence: number): void {
    if (fence > this.#fenceSeen) this.#fenceSeen = fence;
  }

  /**
   * One acquire attempt, with a fresh token (a grant whose reply was lost is released later
   * by token: it must be no other attempt's).
   * @returns the lock when granted with validity left; otherwise the holder's remaining
   *   lease in ms (0 when a grant came back too late to be believed and was released)
   * @throws {@link NodeQuarantinedError}, {@link NodeUnavailableError}, {@link CommandError}
   */
  tryOnce(
    key: string,
    ttl: number,
    op: string = OP_ACQUIRE,
    token?: string,
  ): Promise<Lock | number> {
    // Not `async`: returning the quorum attempt's promise from one would cost two ticks.
    if (this.options.replicas > 1) return tryQuorum(this, key, ttl, op !== OP_ACQUIRE);
    return this.#tryOwner(key, ttl, op, token ?? this.runtime.token());
  }

  /**
   * @param op - the acquire op: plain, or one that marks a waiter (docs/contention.md); a
   *   handoff between owners always sends plain acquires (its waiters poll)
   */
  #tryOwner(key: string, ttl: number, op: string, token: string): Promise<Lock | number> {
    let route: readonly RedisNode[] | Promise<readonly RedisNode[]>;
    try {
      route = this.routeNow(key);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    // No await when the route is known now: a tick saved on every acquire.
    if (!isArray(route)) return route.then((nodes) => this.#tryOn(nodes, key, ttl, op, token));
    return this.#tryOn(route, key, ttl, op, token);
  }

  #tryOn(
    nodes: readonly RedisNode[],
    key: string,
    ttl: number,
    op: string,
    token: string,
  ): Promise<Lock | number> {
    const sentAt = this.runtime.now();
    // A fresh token: a loss on one node releases the others by token in the background, and
    // the caller may reuse its token in the next try (docs/contention.md).
    if (nodes.length > 1) return this.#tryOnAll(nodes, key, this.runtime.token(), ttl, sentAt);
    const node = nodes[0]!;
    const generation = node.generation;
    // One promise for the attempt, resolved from the op's callback (docs/performance.md).
    return new Promise((resolve, reject) => {
      this.sendWith(node, key, op, token, ttl, (reply, error) => {
        if (error !== undefined) reject(error);
        else if (reply < 0) resolve(-1 - reply);
        else {
          try {
            resolve(
              this.believable(new Lock(this, nodes, generation, key, token, reply, ttl, sentAt)),
            );
          } catch (thrown) {
            reject(asError(thrown));
          }
        }
      });
    });
  }

  /**
   * During a handoff: win on the old owners, then on the new one with their fence as floor;
   * then raise the old owners' counters to the grant's fence before it counts, so a client
   * that still routes the key to an old owner alone gets a higher fence next, whatever the
   * servers' clocks say (docs/safety.md, fences).
   */
  async #tryOnAll(
    nodes: readonly RedisNode[],
    key: string,
    token: string,
    ttl: number,
    sentAt: number,
  ): Promise<Lock | number> {
    const generation = generationOf(nodes);
    const taken: RedisNode[] = [];
    let fence = 0;
    try {
      for (const node of nodes) {
        const reply = await this.send(node, key, OP_ACQUIRE, token, ttl, fence);
        if (reply < 0) {
          this.releaseToken(taken, key, token);
          return -1 - reply;
        }
        taken.push(node);
        fence = Math.max(fence, reply);
      }
      await Promise.all(taken.slice(0, -1).map((node) => node.raiseFence(fence)));
    } catch (error) {
      this.releaseToken(taken, key, token);
      throw error;
    }
    return this.believable(new Lock(this, nodes, generation, key, token, fence, ttl, sentAt));
  }

  /** The nodes a release of `key` may be announced from: where its waiters leave marks. */
  wakeNodes(key: string): readonly RedisNode[] {
    const membership = this.#pool.membership;
    try {
      if (this.options.replicas === 1) return membership.route(key, this.runtime.now());
      return membership.replicaSets(key, this.runtime.now()).flatMap((set) => set.voters);
    } catch {
      // Not routable now (quarantine, a node not met yet): no wake-up to wait for, so poll.
      return [];
    }
  }

  /**
   * Drops the waiting mark of a waiter that gave up, in the background (docs/contention.md).
   * Quorum mode marks with each round's own token: those marks expire by themselves.
   */
  forgetWait(key: string, token: string): void {
    if (this.options.replicas > 1) return;
    for (const node of this.wakeNodes(key)) {
      this.send(node, key, OP_FORGET, token, 0).catch(() => undefined);
    }
  }

  /** The lock when it is still valid (and then tracked); else released, and 0. */
  believable(lock: Lock): Lock | number {
    if (lock.isValid()) {
      this.hold(lock, lock.nodes);
      return lock;
    }
    // Granted, but too late to be believed (a slow reply or a lost connection): never
    // return it, and free the key for others now rather than at expiry.
    this.releaseInBackground(lock);
    return 0;
  }

  /** Releases `token` on `nodes` in the background; a failure is emitted. */
  releaseToken(nodes: readonly RedisNode[], key: string, token: string): void {
    for (const node of nodes) {
      this.send(node, key, OP_RELEASE, token, 0).catch((error: unknown) => {
        this.reportBackground(error as ShardlockError);
      });
    }
  }

  /** Releases `lock`'s token on one node in the background; a failure is emitted. */
  releaseOn(node: RedisNode, lock: Lock): void {
    this.releaseToken([node], lock.key, lock.token);
  }

  /** Tracks `lock` as held on `nodes`, so that a node's loss is told to its holders. */
  hold(lock: Lock, nodes: readonly RedisNode[]): void {
    for (const node of nodes) {
      let entry = this.#held.get(node);
      if (entry === undefined) {
        entry = { locks: new Set(), pruneAt: PRUNE_FROM };
        this.#held.set(node, entry);
      }
      entry.locks.add(lock);
      if (entry.locks.size >= entry.pruneAt) {
        for (const held of entry.locks) if (!held.isValid()) entry.locks.delete(held);
        entry.pruneAt = Math.max(PRUNE_FROM, 2 * entry.locks.size);
      }
    }
  }

  /** Stops tracking `lock` on `nodes`. */
  unhold(lock: Lock, nodes: readonly RedisNode[]): void {
    for (const node of nodes) this.#held.get(node)?.locks.delete(lock);
  }

  #nodeLost(node: RedisNode): void {
    const entry = this.#held.get(node);
    if (entry === undefined) return;
    this.#held.delete(node);
    for (const lock of entry.locks) lock.nodeLost();
  }

  /** Releases `lock` without waiting; a failure is emitted, never thrown. */
  releaseInBackground(lock: Lock): void {
    lock.release().catch((error: unknown) => {
      this.#emit('backgroundError', error as ShardlockError);
    });
  }

  /** Reports a lost lock. */
  reportLost(lock: Lock, reason: LockLostReason): void {
    this.metrics.lost();
    this.#emit('lockLost', { key: lock.key, nodeId: lock.nodeId, fence: lock.fence, reason });
  }

  /** Reports a background failure. */
  reportBackground(error: ShardlockError): void {
    this.#emit('backgroundError', error);
  }

  /** Closes every connection; nothing is sent afterwards. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/** Whether a route or replica sets came back now rather than as a promise. */
export function isArray<T>(value: Promise<readonly T[]> | readonly T[]): value is readonly T[] {
  return Array.isArray(value);
}
