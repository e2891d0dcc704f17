import { EventEmitter } from 'node:events';
import { acquireChannel, publishEvent, traceAcquire } from './diagnostics.js';
import type { MetricsSnapshot } from './metrics.js';
import {
  checkForceReleaseOptions,
  forceRelease,
  inspectKey,
  listLocks,
  resolveLocksOptions,
  type ForceReleaseOptions,
  type ForceReleaseResult,
  type LockInspection,
  type LockListEntry,
  type LocksOptions,
} from './admin/index.js';
import { parseNodeSpec, type NodeSpec } from './node-spec.js';
import { acquireLock } from './acquire.js';
import { acquireMany, checkKeys } from './acquire-many.js';
import {
  resolveAcquireOptions,
  type AcquireOptions,
  type WithLockOptions,
} from './acquire-options.js';
import { LockEngine } from './engine.js';
import { asError, InvalidArgumentError, NodeUnavailableError } from './errors.js';
import type { LockClientEvents } from './events.js';
import { RUNTIME } from './internal-symbols.js';
import type { Lock } from './lock.js';
import type { LockGroup } from './lock-group.js';
import type { NodeState } from './membership/types.js';
import {
  resolveClientOptions,
  type LockClientOptions,
  type ResolvedClientOptions,
} from './options.js';
import type { Emit } from './events.js';
import { bounded } from './retry.js';
import { defaultRuntime, type Runtime } from './runtime.js';
import { abortError } from './sleep.js';
import { received } from './validate.js';
import { withLock, type LockedWork } from './with-lock.js';

/** One node as `stats()` reports it. */
export interface NodeStats {
  readonly id: string;
  /** `host:port`. */
  readonly address: string;
  /**
   * `connecting` (its server not met yet), `up`, `quarantined` (up, not yet trusted),
   * `down`, `failed-over` (its keys moved on) or `leaving`.
   */
  readonly state: NodeState;
  /** The connection's status: `ready`, `connecting`, `reconnecting`, `end`, … */
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
  readonly #emit: Emit;

  /**
   * Validates the options and connects to every node (in the background: the first
   * command to a node waits until its server is met; {@link LockClient.ready} waits for all).
   * @throws {@link InvalidArgumentError} for bad options or node specs; nothing connects then
   */
  constructor(options: LockClientOptions) {
    super();
    const resolved = resolveClientOptions(options);
    const runtime = (options as { [RUNTIME]?: Runtime })[RUNTIME] ?? defaultRuntime();
    // The engine emits through the client, and through the diagnostics channels for those
    // who listen there; the casts only bridge EventEmitter's generic types.
    const emit = this.emit.bind(this) as unknown as (event: string, payload: unknown) => void;
    const publishing = (event: string, payload: unknown): void => {
      publishEvent(this, event, payload);
      emit(event, payload);
    };
    this.#emit = publishing;
    this.#engine = new LockEngine(resolved, runtime, this.#emit, this);
  }

  /** The resolved options, defaults applied. */
  get options(): ResolvedClientOptions {
    return this.#engine.options;
  }

  /**
   * Resolves once every node has been reached (or found down) and the cluster's record
   * read. Calls need not wait for it; it is how a service checks its configuration at start.
   * @throws {@link SettingsMismatchError} when this client's shared settings differ from the
   *   cluster's record
   * @throws {@link NodePermissionError} when the Redis user may not run a command the client needs
   * @throws {@link EvictionPolicyError} when a node may evict lock keys
   * @throws {@link ClientClosedError} once the client is closed (also while it waited)
   */
  async ready(): Promise<void> {
    await this.#engine.pool.ready();
  }

  /**
   * Acquires `key`, waiting with backoff while another owner holds it.
   * @throws {@link LockTimeoutError} when retries or `waitTimeout` run out
   * @throws {@link LockAbortedError} when `options.signal` aborts
   * @throws {@link NodeUnavailableError} when the key's node cannot be reached
   * @throws {@link NodeQuarantinedError} when the key's node may have lost its leases and
   *   `waitTimeout` does not reach past the quarantine
   * @throws {@link InvalidArgumentError} for a bad key or option, before anything is sent
   */
  acquire(key: string, options?: AcquireOptions): Promise<Lock> {
    // Not `async`: returning the retry loop's promise from an async function would cost two
    // more microtask ticks on every acquire. Bad input still rejects, never throws.
    try {
      this.#engine.checkOpen();
      const checked = this.#engine.checkKey(key);
      return acquireLock(this.#engine, checked, resolveAcquireOptions(this.#engine, options));
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  /**
   * One attempt: the lock, or `null` when another owner holds the key.
   * @throws {@link LockAbortedError} when `options.signal` has aborted or aborts meanwhile
   *   (a grant that arrives afterwards is released)
   * @throws as {@link LockClient.acquire}, except `LockTimeoutError`
   */
  async tryAcquire(
    key: string,
    options?: Omit<AcquireOptions, 'retry' | 'waitTimeout'>,
  ): Promise<Lock | null> {
    const engine = this.#engine;
    engine.checkOpen();
    const checked = engine.checkKey(key);
    const { ttl, signal } = resolveAcquireOptions(engine, options);
    if (signal?.aborted === true) throw abortError(signal, checked);
    if (acquireChannel.hasSubscribers) {
      return traceAcquire(this, checked, 1, ttl, () => this.#tryOnce(checked, ttl, signal));
    }
    return this.#tryOnce(checked, ttl, signal);
  }

  async #tryOnce(key: string, ttl: number, signal: AbortSignal | undefined): Promise<Lock | null> {
    const engine = this.#engine;
    const started = engine.now();
    const result = await bounded(
      engine,
      engine.tryOnce(key, ttl),
      Number.POSITIVE_INFINITY,
      signal,
      key,
      (lock) => lock.release(),
    );
    if (typeof result !== 'object') {
      engine.metrics.contended();
      return null;
    }
    engine.metrics.granted(engine.now() - started);
    return result;
  }

  /**
   * Counters and HDR histograms since the client started: grants, contended attempts,
   * timeouts, lost locks, the wait an acquire cost its caller, hold times, and per node its
   * batch calls, their sizes and round trips. Always collected (a counter or a histogram
   * bucket per event); the same events are published on `node:diagnostics_channel` for APM
   * tools (`CHANNELS`, docs/metrics.md).
   */
  metrics(): MetricsSnapshot {
    return this.#engine.metrics.snapshot();
  }

  /**
   * Runs `work` while holding `key`, then releases it. With `autoExtend` (the default) the
   * lease is renewed in the background; `work`'s signal aborts with a `LockLostError` reason
   * when the lock is lost or its validity is about to end, and with a `LockAbortedError`
   * when `options.signal` aborts.
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

  /**
   * The node that owns `key` in this client's ring now.
   * @throws {@link NodeUnavailableError} when no node serves
   */
  nodeFor(key: string): string {
    const checked = this.#engine.checkKey(key);
    const ring = this.#engine.membership.ring;
    if (ring.size === 0) {
      throw new NodeUnavailableError('no node is serving: every node is removed or failed over', {
        key: checked,
      });
    }
    return ring.owner(checked);
  }

  /** The ring's epoch: it rises with every membership change. */
  get epoch(): number {
    return this.#engine.membership.epoch;
  }

  /**
   * Adds a node while traffic flows. Resolves once the node is up, trusted (a server that
   * may have served before and started less than `maxTtl` + drift ago may have restarted
   * empty, so that is waited out) and on the ring. Keys that move to it keep winning on
   * their old owners for `handoffWindow`, so clients that apply the same change up to
   * `handoffWindow − maxTtl − drift` later stay safe. The change is recorded on the nodes,
   * for clients that start later.
   * @throws {@link InvalidArgumentError} for a bad spec or an id or address already used (also
   *   by an `addNode` still in progress)
   * @throws {@link NodeUnavailableError} when the node does not come up within
   *   `connectTimeout` ms, or goes down before it is trusted
   * @throws {@link SettingsMismatchError}, {@link NodePermissionError} or
   *   {@link EvictionPolicyError} when the node cannot serve this client
   */
  async addNode(spec: NodeSpec, connectTimeout = 10_000): Promise<void> {
    this.#engine.checkOpen();
    await this.#engine.pool.addNode(parseNodeSpec(spec), connectTimeout);
  }

  /**
   * Removes a node while traffic flows. The removal is recorded on the nodes (for clients
   * that start later); then its keys move at once to their next nodes on the ring, and
   * keep winning on it too until `handoffWindow` has passed; then its connection closes.
   * @throws {@link InvalidArgumentError} for an unknown id, the last member, or (in quorum
   *   mode) a member without which fewer nodes than `replicas` would remain
   */
  async removeNode(id: string): Promise<void> {
    this.#engine.checkOpen();
    const membership = this.#engine.membership;
    if (typeof id !== 'string' || !membership.has(id)) {
      throw new InvalidArgumentError(`node ${received(id)} is not a member`, {
        nodeId: typeof id === 'string' ? id : undefined,
      });
    }
    // The last member, not the last serving node: with the others failed over for now, the
    // removal still stands (they come back), as it does on every other client (found in the
    // simulator: a client that refused it kept using the node others had removed).
    if (membership.weights.size === 1 && membership.weights.has(id)) {
      throw new InvalidArgumentError(`node ${JSON.stringify(id)} is the last member`, {
        nodeId: id,
      });
    }
    const { replicas } = this.#engine.options;
    if (membership.weights.has(id) && membership.weights.size - 1 < replicas) {
      throw new InvalidArgumentError(
        `removing node ${JSON.stringify(id)} would leave ${membership.weights.size - 1} nodes for ${replicas} replicas per key`,
        { nodeId: id },
      );
    }
    await this.#engine.pool.removeNode(id);
  }

  /** Each node's state, share of the ring and in-flight commands. */
  stats(): NodeStats[] {
    const { membership, pool } = this.#engine;
    const shares = membership.ring.shares();
    const now = this.#engine.now();
    return [...pool.nodes.values()].map((node) => ({
      id: node.id,
      address: node.spec.address,
      state: membership.stateOf(node.id, now) ?? 'leaving',
      status: node.status,
      share: shares.get(node.id) ?? 0,
      inFlight: node.inFlight,
      generation: node.generation,
      quarantinedFor: membership.quarantinedFor(node.id, now),
    }));
  }

  /**
   * An operator's look at `key`: whether it is held, by which token (its fingerprint, never
   * the token), for how much longer, the last fence its node(s) issued, and each node's state.
   * One script call to each node the lease may be on: the owner (during a handoff window its
   * old owners too), or in quorum mode every replica. Waits for the client's start.
   *
   * @example
   * ```ts
   * const seen = await client.inspect('order:42');
   * if (seen.held) console.log(`held by ${seen.fingerprint} for ${seen.ttl} ms more on ${seen.nodes[0]!.nodeId}`);
   * ```
   * @throws {@link InvalidArgumentError} for a bad key, before anything is sent
   * @throws {@link NodeUnavailableError} (or {@link NodePermissionError}) when no node of the
   *   key answered; a node that fails while others answer is reported in its `nodes` entry
   * @throws what `ready()` throws when the client refused to start
   */
  async inspect(key: string): Promise<LockInspection> {
    const checked = this.#engine.checkKey(key);
    this.#engine.checkOpen();
    await this.#engine.pool.ready();
    return inspectKey(this.#engine, checked);
  }

  /**
   * Every lease held on every node, for operators: a SCAN of the lock keys (under
   * `keyPrefix`, matching `match`) on all nodes in parallel, a page at a time per node, so
   * memory stays bounded whatever the number of locks. A node that fails yields one
   * `{ kind: 'error', nodeId, error }` entry and the others go on: check `kind`. Order is
   * the nodes' scan order; a key can appear twice when its node rehashes meanwhile (SCAN's
   * rule), and in quorum mode once per replica that holds it. Works also on a client that
   * refused to start (a settings mismatch), as the listing does not route.
   *
   * @example
   * ```ts
   * for await (const entry of client.locks({ match: 'order:*' })) {
   *   if (entry.kind === 'error') console.error(entry.nodeId, entry.error.message);
   *   else console.log(entry.key, entry.nodeId, entry.ttl, entry.fingerprint);
   * }
   * ```
   * @throws {@link InvalidArgumentError} for bad options, at once (before anything is sent)
   * @throws {@link LockAbortedError} from the iterator when `options.signal` aborts
   * @throws {@link ClientClosedError} from the iterator when the client is closed
   */
  locks(options?: LocksOptions): AsyncGenerator<LockListEntry, void, undefined> {
    const resolved = resolveLocksOptions(options);
    return listLocks(this.#engine, resolved);
  }

  /**
   * Deletes `key`'s lease on every node it may be on, whoever holds it, or only the holder's
   * whose fingerprint is given; emits `forceRelease` when a lease was deleted. For a lock
   * whose holder is gone or stuck: the holder's next extend fails with `LockLostError` (and
   * `withLock` aborts its signal), but until then it may still be working, believing it
   * holds the lock, while another client is granted the key. **This breaks mutual
   * exclusion** for that while. What still protects the resource is the fence: the next
   * grant's fence is above every fence the key's node(s) issued before, the old holder's
   * included, so a resource that rejects writes with a fence below the highest it has seen
   * refuses the old holder once the new one has written.
   *
   * @example
   * ```ts
   * const seen = await client.inspect('order:42');
   * if (seen.held) await client.forceRelease('order:42', { fingerprint: seen.fingerprint });
   * ```
   * @throws {@link InvalidArgumentError} for a bad key or fingerprint, before anything is sent
   * @throws {@link NodeUnavailableError} (or {@link NodePermissionError}) when no node of the
   *   key answered; per node outcomes are in the result otherwise
   * @throws what `ready()` throws when the client refused to start
   */
  async forceRelease(key: string, options?: ForceReleaseOptions): Promise<ForceReleaseResult> {
    const checked = this.#engine.checkKey(key);
    const fingerprint = checkForceReleaseOptions(options, checked);
    this.#engine.checkOpen();
    await this.#engine.pool.ready();
    return forceRelease(this.#engine, this.#emit, checked, fingerprint);
  }

  /**
   * Closes every connection after the commands already sent are answered. Locks still
   * held are not released: they expire by their TTL.
   */
  async close(): Promise<void> {
    await this.#engine.close();
  }
}
