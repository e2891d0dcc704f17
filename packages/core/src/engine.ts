import type { RedisOptions } from 'ioredis';
import {
  ClientClosedError,
  InvalidArgumentError,
  NodeUnavailableError,
  type ShardlockError,
} from './errors.js';
import type { LockClientEvents, LockLostReason } from './events.js';
import { generationOf, Lock } from './lock.js';
import { Membership, type Member } from './membership.js';
import { RedisNode, type NodeListener, type ServerInfo } from './node.js';
import type { ResolvedNodeSpec } from './node-spec.js';
import { detectionLagOf, quarantineOf, type ResolvedClientOptions } from './options.js';
import { OP_ACQUIRE } from './scripts/batch.js';
import { TokenSource } from './token.js';
import { received } from './validate.js';

/** How the engine tells its client about events. */
export type Emit = <E extends keyof LockClientEvents>(
  event: E,
  ...args: LockClientEvents[E]
) => void;

/**
 * The state behind a client: nodes, membership, tokens, and the one-attempt lock primitives
 * that `acquire`, `withLock` and `acquireMany` are built from.
 */
export class LockEngine {
  readonly options: ResolvedClientOptions;
  readonly #membership: Membership;
  readonly #tokens = new TokenSource();
  readonly #emit: Emit;
  readonly #lockPrefix: string;
  readonly #nodeLostWatchers = new Map<RedisNode, Set<() => void>>();
  readonly #joining = new Map<RedisNode, (info: ServerInfo) => void>();
  readonly #listener: NodeListener;
  #closed = false;

  /** @param options - validated client options; @param emit - forwards events to the client */
  constructor(options: ResolvedClientOptions, emit: Emit) {
    this.options = options;
    this.#emit = emit;
    this.#lockPrefix = `${options.keyPrefix}lock:`;
    this.#membership = new Membership(
      {
        quarantine: quarantineOf(options),
        handoffWindow: options.handoffWindow,
        restartQuarantine: options.restartQuarantine,
        detectionLag: detectionLagOf(options),
      },
      options.vnodes,
      {
        rebalance: (epoch, reason, nodeId, movedShare) =>
          emit('rebalance', { epoch, reason, nodeId, movedShare }),
        handoffEnd: (epoch) => emit('handoffEnd', { epoch }),
        restarted: (nodeId) => emit('nodeRestarted', { nodeId }),
        quarantined: (nodeId, until) =>
          emit('nodeQuarantined', {
            nodeId,
            until: Math.max(0, Math.round(until - performance.now())),
          }),
        retire: (member: Member) => {
          this.#nodeLostWatchers.delete(member.node);
          void member.node.close(options.commandTimeout);
        },
      },
    );
    this.#listener = {
      up: (node, info) => {
        if (this.#closed) return;
        const join = this.#joining.get(node);
        if (join !== undefined) join(info);
        this.#membership.up(node, info, performance.now());
        emit('nodeUp', { nodeId: node.id, generation: node.generation });
      },
      down: (node, reason) => {
        // Closing the client closes every connection: that is no node failure.
        if (this.#closed) return;
        this.#membership.down(node, performance.now());
        emit('nodeDown', { nodeId: node.id, generation: node.generation, reason });
        for (const watcher of this.#nodeLostWatchers.get(node) ?? []) watcher();
      },
      error: (node, error) => {
        if (!this.#closed) emit('nodeError', { nodeId: node.id, error });
      },
    };
    this.#membership.init(
      options.nodes.map((spec) => ({ node: this.#connect(spec), weight: spec.weight })),
    );
  }

  #connect(spec: ResolvedNodeSpec): RedisNode {
    const options = this.options;
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
      // Every client must see a node return within the detection lag the handoff window
      // allows for (ioredis' own backoff grows to 2 s): reconnect at least that often.
      retryStrategy: (times: number) => Math.min(times * 50, options.healthCheckInterval),
    };
    const health = { interval: options.healthCheckInterval, threshold: options.failureThreshold };
    return new RedisNode(spec, redisOptions, `${options.keyPrefix}fence`, this.#listener, health);
  }

  /** Membership: members, serving ring, epoch. */
  get membership(): Membership {
    return this.#membership;
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

  /** The drift allowance of a lease of `ttl` ms: `ttl × driftFactor + 2` ms. */
  drift(ttl: number): number {
    return ttl * this.options.driftFactor + 2;
  }

  /** How long a lease of `ttl` ms is believed from the moment its request was sent. */
  validity(ttl: number): number {
    return ttl - this.drift(ttl);
  }

  /** A fresh random token. */
  token(): string {
    return this.#tokens.next();
  }

  /**
   * The nodes that must all hold `key` now (one, or more during a handoff).
   * @throws {@link NodeQuarantinedError} or {@link NodeUnavailableError}
   */
  route(key: string): readonly RedisNode[] {
    return this.#membership.route(key, performance.now());
  }

  /** The node that owns `key` in the serving ring. */
  ownerOf(key: string): string {
    return this.#membership.ring.owner(key);
  }

  /** Sends one op on `key` to `node` in this tick's batch; `floor` only for acquires. */
  send(
    node: RedisNode,
    key: string,
    op: string,
    token: string,
    ttl: number,
    floor = 0,
  ): Promise<number> {
    const arg =
      ttl > 0
        ? floor > 0
          ? `${op}${token}${ttl}:${floor}`
          : op + token + String(ttl)
        : op + token;
    return node.run(this.#lockPrefix + key, arg);
  }

  /**
   * One acquire attempt.
   * @returns the lock when granted with validity left; otherwise the holder's remaining
   *   lease in ms (0 when a grant came back too late to be believed and was released)
   * @throws {@link NodeQuarantinedError} or {@link NodeUnavailableError}
   */
  async tryOnce(key: string, token: string, ttl: number): Promise<Lock | number> {
    const sentAt = performance.now();
    const nodes = this.#membership.route(key, sentAt);
    if (nodes.length > 1) return this.#tryOnAll(nodes, key, token, ttl, sentAt);
    const node = nodes[0]!;
    const generation = node.generation;
    const reply = await this.send(node, key, OP_ACQUIRE, token, ttl);
    if (reply < 0) return -1 - reply;
    return this.#believable(new Lock(this, nodes, generation, key, token, reply, ttl, sentAt));
  }

  /**
   * During a handoff: win on the old owners, then on the new one with their fence as floor,
   * so fences keep rising when the key settles on the new owner (SAFETY.md hazards 4 and 6).
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
          await this.#releaseOn(taken, key, token);
          return -1 - reply;
        }
        taken.push(node);
        fence = Math.max(fence, reply);
      }
    } catch (error) {
      await this.#releaseOn(taken, key, token);
      throw error;
    }
    return this.#believable(new Lock(this, nodes, generation, key, token, fence, ttl, sentAt));
  }

  #believable(lock: Lock): Lock | number {
    if (lock.isValid()) return lock;
    // Granted, but too late to be believed (a slow reply or a lost connection): never
    // return it, and free the key for others now rather than at expiry.
    this.releaseInBackground(lock);
    return 0;
  }

  async #releaseOn(nodes: readonly RedisNode[], key: string, token: string): Promise<void> {
    const results = await Promise.allSettled(
      nodes.map((node) => this.send(node, key, 'r', token, 0)),
    );
    for (const result of results)
      if (result.status === 'rejected') this.reportBackground(result.reason as ShardlockError);
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

  /** Calls `watcher` when `node` is marked down; returns a function that stops it. */
  onNodeLost(node: RedisNode, watcher: () => void): () => void {
    let watchers = this.#nodeLostWatchers.get(node);
    if (watchers === undefined) {
      watchers = new Set();
      this.#nodeLostWatchers.set(node, watchers);
    }
    watchers.add(watcher);
    return () => watchers.delete(watcher);
  }

  /**
   * Connects a new node and adds it to the ring once it is up and trusted; keys that move to
   * it keep winning on their old owners for the handoff window.
   * @throws {@link NodeUnavailableError} when it does not come up within `connectTimeout`
   */
  async addNode(spec: ResolvedNodeSpec, connectTimeout: number): Promise<void> {
    const node = this.#connect(spec);
    let timer: NodeJS.Timeout | undefined;
    try {
      const info = await new Promise<ServerInfo>((resolve, reject) => {
        this.#joining.set(node, resolve);
        timer = setTimeout(
          () =>
            reject(
              new NodeUnavailableError(
                `node ${JSON.stringify(spec.id)} (${spec.address}) did not come up within ${connectTimeout} ms`,
                { nodeId: spec.id },
              ),
            ),
          connectTimeout,
        );
      });
      // A server that may have restarted empty is trusted only after the quarantine; its keys
      // stay with their current owners meanwhile.
      const quarantine = quarantineOf(this.options);
      if (this.options.restartQuarantine && info.uptimeMs < quarantine) {
        await new Promise((resolve) => setTimeout(resolve, quarantine - info.uptimeMs).unref());
      }
      this.checkOpen();
      this.#membership.join(node, spec.weight, true);
      this.#membership.up(node, { ...info, uptimeMs: Number.MAX_SAFE_INTEGER }, performance.now());
    } catch (error) {
      await node.close(this.options.commandTimeout);
      throw error;
    } finally {
      clearTimeout(timer);
      this.#joining.delete(node);
    }
  }

  /** Closes every connection; nothing is sent afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#membership.close();
    await Promise.all(
      [...this.#membership.members.values()].map((m) => m.node.close(this.options.commandTimeout)),
    );
  }
}
