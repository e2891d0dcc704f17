import { HashRing } from '@shardlock/ring';
import type { RedisOptions } from 'ioredis';
import { ClientClosedError, InvalidArgumentError, type ShardlockError } from './errors.js';
import type { LockClientEvents, LockLostReason } from './events.js';
import { Lock } from './lock.js';
import { RedisNode, type NodeListener } from './node.js';
import type { ResolvedClientOptions } from './options.js';
import { OP_ACQUIRE } from './scripts/batch.js';
import { TokenSource } from './token.js';
import { received } from './validate.js';

/** How the engine tells its client about events. */
export type Emit = <E extends keyof LockClientEvents>(
  event: E,
  ...args: LockClientEvents[E]
) => void;

/**
 * The state behind a client: nodes, ring, tokens, and the one-attempt lock primitives that
 * `acquire`, `withLock` and `acquireMany` are built from.
 */
export class LockEngine {
  readonly options: ResolvedClientOptions;
  readonly #ring: HashRing;
  readonly #nodes = new Map<string, RedisNode>();
  readonly #tokens = new TokenSource();
  readonly #emit: Emit;
  readonly #lockPrefix: string;
  readonly #nodeLostWatchers = new Map<RedisNode, Set<() => void>>();
  #closed = false;

  /** @param options - validated client options; @param emit - forwards events to the client */
  constructor(options: ResolvedClientOptions, emit: Emit) {
    this.options = options;
    this.#emit = emit;
    this.#lockPrefix = `${options.keyPrefix}lock:`;
    this.#ring = new HashRing(
      options.nodes.map(({ id, weight }) => ({ id, weight })),
      { vnodes: options.vnodes },
    );
    const listener: NodeListener = {
      up: (node) => emit('nodeUp', { nodeId: node.id, generation: node.generation }),
      down: (node) => {
        emit('nodeDown', { nodeId: node.id, generation: node.generation });
        for (const watcher of this.#nodeLostWatchers.get(node) ?? []) watcher();
      },
      error: (node, error) => emit('nodeError', { nodeId: node.id, error }),
    };
    for (const spec of options.nodes) {
      const redisOptions: RedisOptions = {
        commandTimeout: options.commandTimeout,
        connectionName: 'shardlock',
        ...options.redis,
        ...spec.redis,
        ...(spec.url === undefined ? { host: spec.host, port: spec.port } : {}),
        // A lock command must fail at once on a down node, never wait in a queue or be
        // replayed after a reconnect, when its answer could no longer be trusted.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        lazyConnect: false,
      };
      this.#nodes.set(
        spec.id,
        new RedisNode(spec, redisOptions, `${options.keyPrefix}fence`, listener),
      );
    }
  }

  /** The nodes, by id. */
  get nodes(): ReadonlyMap<string, RedisNode> {
    return this.#nodes;
  }

  /** The ring keys are placed by. */
  get ring(): HashRing {
    return this.#ring;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Validates a key.
   * @throws {@link InvalidArgumentError}
   */
  checkKey(key: unknown): string {
    if (typeof key !== 'string' || key.length === 0 || key.length > this.options.maxKeyLength) {
      throw new InvalidArgumentError(
        `a lock key must be a string of 1 to ${this.options.maxKeyLength} characters, received ${received(key)}`,
      );
    }
    return key;
  }

  /**
   * Validates a TTL (an integer from 1 to `maxTtl` ms).
   * @throws {@link InvalidArgumentError}
   */
  checkTtl(ttl: unknown): number {
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > this.options.maxTtl) {
      throw new InvalidArgumentError(
        `ttl must be an integer from 1 to ${this.options.maxTtl} ms (maxTtl), received ${received(ttl)}`,
      );
    }
    return ttl;
  }

  /** Throws when the client is closed. */
  checkOpen(): void {
    if (this.#closed) throw new ClientClosedError('the client is closed');
  }

  /** How long a lease of `ttl` ms is believed from the moment its request was sent. */
  validity(ttl: number): number {
    return ttl - ttl * this.options.driftFactor - 2;
  }

  /** A fresh random token. */
  token(): string {
    return this.#tokens.next();
  }

  /** The node that owns `key` now. */
  nodeFor(key: string): RedisNode {
    return this.#nodes.get(this.#ring.owner(key))!;
  }

  /** Sends one op on `key` to `node` in this tick's batch. */
  send(node: RedisNode, key: string, op: string, token: string, ttl: number): Promise<number> {
    return node.run(this.#lockPrefix + key, ttl > 0 ? op + token + String(ttl) : op + token);
  }

  /**
   * One acquire attempt.
   * @returns the lock when granted with validity left; otherwise the holder's remaining
   *   lease in ms (0 when a grant came back too late to be believed and was released)
   */
  async tryOnce(key: string, token: string, ttl: number): Promise<Lock | number> {
    const node = this.nodeFor(key);
    const sentAt = performance.now();
    const generation = node.generation;
    const reply = await this.send(node, key, OP_ACQUIRE, token, ttl);
    if (reply < 0) return -1 - reply;
    const lock = new Lock(this, node, key, token, reply, ttl, sentAt, generation);
    if (lock.isValid()) return lock;
    // Granted, but too late to be believed (a slow reply or a lost connection): never
    // return it, and free the key for others now rather than at expiry.
    this.releaseInBackground(lock);
    return 0;
  }

  /** Releases `lock` without waiting; a failure is emitted, never thrown. */
  releaseInBackground(lock: Lock): void {
    lock.release().catch((error: unknown) => {
      this.#emit('backgroundError', error as ShardlockError);
    });
  }

  /** Reports a lost lock. */
  reportLost(lock: Lock, reason: LockLostReason): void {
    this.#emit('lockLost', { key: lock.key, nodeId: lock.nodeId, fence: lock.fence, reason });
  }

  /** Reports a background failure. */
  reportBackground(error: ShardlockError): void {
    this.#emit('backgroundError', error);
  }

  /** Calls `watcher` when `node`'s connection is lost; returns a function that stops it. */
  onNodeLost(node: RedisNode, watcher: () => void): () => void {
    let watchers = this.#nodeLostWatchers.get(node);
    if (watchers === undefined) {
      watchers = new Set();
      this.#nodeLostWatchers.set(node, watchers);
    }
    watchers.add(watcher);
    return () => watchers.delete(watcher);
  }

  /** Closes every connection; nothing is sent afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      [...this.#nodes.values()].map((node) => node.close(this.options.commandTimeout)),
    );
  }
}
