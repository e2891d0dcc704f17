import type { Connection, ListenHandlers } from './connection.js';
import { NodePermissionError, NodeUnavailableError, ShardlockError } from './errors.js';
import { readHello, type Hello } from './hello.js';
import type { ResolvedNodeSpec } from './node-spec.js';
import type { Runtime } from './runtime.js';
import { Batcher, type OpCallback } from './batcher.js';
import { OP_FENCE, OP_RELEASE, tokenOf, type BatchReply } from './scripts/batch.js';

/** Why a node was marked down. */
export type DownReason = 'connection' | 'health';

/** What a node reports to its pool. */
export interface NodeListener {
  /** The server answered (first contact, or again after an outage): who it is, its record. */
  contact(node: RedisNode, hello: Hello): void;
  /** The server cannot be used as configured (a missing permission, an eviction policy). */
  refused(node: RedisNode, error: ShardlockError): void;
  lost(node: RedisNode, reason: DownReason): void;
  error(node: RedisNode, error: Error): void;
  /** A batch call of `size` ops came back, or failed, after `roundTrip` ms. */
  batch(node: RedisNode, size: number, roundTrip: number, failed: boolean): void;
}

/** What a node needs to know of its client. */
export interface NodeSettings {
  /** ms between PINGs. */
  readonly healthInterval: number;
  /** Failed PINGs in a row that mark the node down. */
  readonly healthThreshold: number;
  /** The node's fence counter key. */
  readonly fenceKey: string;
  /** The cluster record's key. */
  readonly recordKey: string;
  /** A key the first contact may write for a second, to check permissions. */
  readonly probeKey: string;
}

const AUTH_FAILED = /WRONGPASS|NOAUTH|invalid username-password|AUTH failed/i;

// Releases owed for replies that were lost: bounded, as each expires by its TTL anyway.
const MAX_ORPHANS = 10_000;

/**
 * One node: one connection, its health, its first contact, the releases it is owed, and its
 * batches (`batcher.ts`).
 */
export class RedisNode {
  readonly id: string;
  readonly spec: ResolvedNodeSpec;
  readonly #conn: Connection;
  readonly #rt: Runtime;
  readonly #listener: NodeListener;
  readonly #settings: NodeSettings;
  readonly #settled: Promise<void>;
  #settle: () => void = () => undefined;
  readonly #batcher: Batcher;
  #generation = 0;
  #lostAt = Number.NEGATIVE_INFINITY;
  #up = false;
  #contacting = false;
  #failures = 0;
  #lastError: Error | undefined;
  #refusal: ShardlockError | undefined;
  #closed = false;
  #settledOnce = false;
  /** `[redisKey, releaseArg, …]` of acquires whose replies were lost. */
  #orphans: string[] = [];
  #timer: unknown;
  /** Closes the wake-up subscriber, once opened (`listen`). */
  #unlisten: (() => void) | undefined;

  /**
   * @param spec - the node's validated spec
   * @param conn - its connection (already connecting)
   * @param runtime - clock and timers
   * @param settings - health checks and the keys it uses
   * @param listener - receives contacts, losses and errors
   */
  constructor(
    spec: ResolvedNodeSpec,
    conn: Connection,
    runtime: Runtime,
    settings: NodeSettings,
    listener: NodeListener,
  ) {
    this.id = spec.id;
    this.spec = spec;
    this.#conn = conn;
    this.#rt = runtime;
    this.#settings = settings;
    this.#listener = listener;
    this.#settled = new Promise<void>((resolve) => (this.#settle = resolve));
    this.#batcher = new Batcher(
      conn,
      runtime,
      settings.fenceKey,
      (cause) => {
        const error = new NodeUnavailableError(
          `node ${JSON.stringify(this.id)} (${spec.address}) failed a lock command: ${(cause as Error).message}`,
          { nodeId: this.id, cause },
        );
        listener.error(this, error);
        return error;
      },
      () => this.#flushOrphans(),
      (redisKey, arg) => this.#orphan(redisKey, arg),
      (size, roundTrip, failed) => listener.batch(this, size, roundTrip, failed),
    );
    conn.on('ready', () => void this.#contact());
    conn.on('close', () => {
      // A connection the client closed on purpose (a removed node's) is no failure.
      if (this.#closed) return;
      if (this.#up) this.#markDown('connection');
      else if (!this.#settledOnce) {
        // Never reached since the client started: down from now on, so that its keys fail
        // over once leases other clients may hold on it have run out.
        this.#settledOnce = true;
        this.#settle();
        listener.lost(this, 'connection');
      }
    });
    conn.on('error', (error: Error) => {
      this.#lastError = error;
      listener.error(this, error);
      // A wrong password or user is no outage: say so, as a missing permission would be.
      if (!this.#up && this.#refusal === undefined && AUTH_FAILED.test(error.message)) {
        this.#refuse(
          new NodePermissionError(
            `node ${JSON.stringify(this.id)} (${spec.address}) refused the client's credentials: ${error.message}`,
            'auth',
            { nodeId: this.id, cause: error },
          ),
        );
      }
    });
    // A stopped (SIGSTOP) or hung server keeps its connection open: only PINGs find it.
    this.#timer = runtime.setTimeout(() => this.#tick(), settings.healthInterval);
  }

  /** Times this node was marked down; a lock granted in an earlier generation is gone. */
  get generation(): number {
    return this.#generation;
  }

  /** When (runtime clock) it was last marked down; −Infinity when never. */
  get lostAt(): number {
    return this.#lostAt;
  }

  /** Connected, its server met, answering health checks. */
  get up(): boolean {
    return this.#up;
  }

  /** Whether the client closed this node's connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ops sent and not yet answered. */
  get inFlight(): number {
    return this.#batcher.ops;
  }

  /** The connection's status (`ready`, `connecting`, `reconnecting`, `end`, …). */
  get status(): string {
    return this.#conn.status;
  }

  /** Resolves once the first contact succeeded, was refused, or the first connection failed. */
  get settled(): Promise<void> {
    return this.#settled;
  }

  /** Whether the first contact has settled. */
  get isSettled(): boolean {
    return this.#settledOnce;
  }

  /** The connection, for the record writes and fence syncs of the pool. */
  get connection(): Connection {
    return this.#conn;
  }

  /**
   * Reads the server's hello again (for a membership change that needs fresh records).
   * @throws {@link NodeUnavailableError} when it does not answer, or a refusal as at contact
   */
  async hello(): Promise<Hello> {
    try {
      return await readHello(this.#conn, this.#settings, this.id);
    } catch (error) {
      if (error instanceof ShardlockError) throw error;
      throw new NodeUnavailableError(
        `node ${JSON.stringify(this.id)} (${this.spec.address}) did not answer: ${(error as Error).message}`,
        { nodeId: this.id, cause: error },
      );
    }
  }

  async #contact(): Promise<void> {
    if (this.#contacting || this.#closed) return;
    this.#contacting = true;
    try {
      const hello = await readHello(this.#conn, this.#settings, this.id);
      if (this.#up || this.closed || this.#conn.status !== 'ready') return;
      this.#up = true;
      this.#failures = 0;
      this.#refusal = undefined;
      this.#listener.contact(this, hello);
      this.#flushOrphans();
      if (!this.#settledOnce) {
        this.#settledOnce = true;
        this.#settle();
      }
    } catch (error) {
      if (this.closed) return;
      if (error instanceof ShardlockError && isRefusal(error)) {
        this.#refuse(error);
      } else {
        this.#lastError = error as Error;
        this.#listener.error(this, error as Error);
      }
    } finally {
      this.#contacting = false;
    }
  }

  #refuse(error: ShardlockError): void {
    this.#refusal = error;
    this.#listener.refused(this, error);
    // Refused for locks, the server still answers: the releases owed for lost replies go to
    // it all the same, as other clients may well use it (found in the simulator).
    this.#flushOrphans(true);
    if (!this.#settledOnce) {
      this.#settledOnce = true;
      this.#settle();
    }
  }

  #markDown(reason: DownReason): void {
    this.#up = false;
    this.#failures = 0;
    this.#generation++;
    this.#lostAt = this.#rt.now();
    this.#batcher.abandon(new Error(`taken for down (${reason}) before the batch was sent`));
    this.#listener.lost(this, reason);
  }

  // At a fixed rate, as the detection lag the handoff window allows for assumes: a check
  // still waiting for its PING makes the next tick skip, not wait.
  #tick(): void {
    if (this.#closed) return;
    this.#timer = this.#rt.setTimeout(() => this.#tick(), this.#settings.healthInterval);
    void this.#check();
  }

  async #check(): Promise<void> {
    if (this.#conn.status !== 'ready') return;
    // Not met yet (or met and lost): meet it again; #contact runs one at a time.
    if (!this.#up) {
      await this.#contact();
      return;
    }
    // PINGs overlap when the server hangs: one per tick, each failure counted when it times
    // out, so a hang is found within interval × threshold + commandTimeout, the detection
    // lag the handoff window is sized for. (Skipping ticks while a PING waits found it up to
    // an interval later, measured in the simulator.)
    const generation = this.#generation;
    try {
      await this.#conn.ping();
      if (generation !== this.#generation) return;
      this.#failures = 0;
      this.#flushOrphans();
    } catch (error) {
      // A method call, not a field read: the node may have gone down while the PING waited.
      if (generation !== this.#generation || !this.up) return;
      this.#failures++;
      this.#lastError = error as Error;
      if (this.#failures >= this.#settings.healthThreshold) this.#markDown('health');
    }
  }

  /**
   * Sends one op in this tick's batch. With `cleanup`, an acquire whose reply is lost (a
   * timeout, a dropped connection) is released once the node answers again: the server may
   * still run it later, and nobody would believe that grant (docs/safety.md, lost replies).
   */
  run(redisKey: string, arg: string, cleanup: boolean): Promise<BatchReply> {
    if (this.#up) return this.#batcher.run(redisKey, arg, cleanup);
    return this.#runWhenUsable(redisKey, arg, cleanup);
  }

  /** As {@link run}, the reply going to `callback` (`batcher.ts`, `runWith`). */
  runWith(redisKey: string, arg: string, cleanup: boolean, callback: OpCallback): void {
    if (this.#up) {
      this.#batcher.runWith(redisKey, arg, cleanup, callback);
      return;
    }
    this.#runWhenUsable(redisKey, arg, cleanup).then(
      (reply) => callback(reply, undefined),
      (error: unknown) => callback(undefined, error as Error),
    );
  }

  async #runWhenUsable(redisKey: string, arg: string, cleanup: boolean): Promise<BatchReply> {
    try {
      await this.#whenUsable(redisKey);
    } catch (error) {
      // A release that could not be sent is owed all the same: an extend sent before the
      // node went quiet may still run there.
      if (cleanup && arg.startsWith(OP_RELEASE)) this.#orphan(redisKey, arg);
      throw error;
    }
    return this.#batcher.run(redisKey, arg, cleanup);
  }

  /** Raises the node's fence counter to at least `floor`; resolves to the counter. */
  async raiseFence(floor: number): Promise<number> {
    return Number(await this.run(this.#settings.fenceKey, OP_FENCE + String(floor), false));
  }

  #orphan(redisKey: string, arg: string): void {
    if (this.#orphans.length >= 2 * MAX_ORPHANS) this.#orphans.splice(0, 2);
    this.#orphans.push(redisKey, OP_RELEASE + tokenOf(arg));
  }

  #flushOrphans(refused = false): void {
    if (this.#orphans.length === 0) return;
    if (refused ? this.#conn.status !== 'ready' : !this.#up) return;
    const orphans = this.#orphans;
    this.#orphans = [];
    for (let i = 0; i < orphans.length; i += 2) {
      const key = orphans[i]!;
      const arg = orphans[i + 1]!;
      // Itself cleaned up if lost: a later reply owes it again.
      if (!refused) this.run(key, arg, true).catch(() => undefined);
      else this.#batcher.run(key, arg, true).catch(() => undefined);
    }
  }

  /**
   * Closes the connection of a node that left, once the releases it owes are sent (a paused
   * server may still run a grant whose reply was lost, and a closed socket's bytes are still
   * read): it waits for the node to answer, or for the client's `close()`. No shorter bound:
   * a lease counts from when the server runs the command, so a server paused for longer
   * than any bound still runs the grant at its resume and holds it a whole TTL from then
   * (found by a simulator hunt, seed 1014; docs/safety.md, lost replies).
   */
  async retire(timeout: number): Promise<void> {
    const rt = this.#rt;
    while (this.#orphans.length > 0 && !this.#closed) {
      await new Promise<void>((resolve) => rt.setTimeout(resolve, this.#settings.healthInterval));
    }
    await this.close(timeout);
  }

  /**
   * Opens the node's wake-up subscriber, on its fence key's channel, once: on the first
   * contention, not before (docs/contention.md). No-op where the connection has no pub/sub.
   */
  listen(handlers: ListenHandlers): void {
    if (this.#unlisten !== undefined || this.#closed || this.#conn.listen === undefined) return;
    this.#unlisten = this.#conn.listen(this.#settings.fenceKey, handlers);
  }

  /** Closes the connection: politely when the node answers, at once otherwise. */
  async close(timeout: number): Promise<void> {
    this.#rt.clearTimeout(this.#timer);
    this.#closed = true;
    this.#unlisten?.();
    this.#up = false;
    if (!this.#settledOnce) {
      this.#settledOnce = true;
      this.#settle();
    }
    const conn = this.#conn;
    if (conn.status === 'end') return;
    if (conn.status !== 'ready') {
      conn.disconnect();
      return;
    }
    const timer = this.#rt.setTimeout(() => conn.disconnect(), timeout);
    try {
      await conn.quit();
    } catch {
      conn.disconnect();
    } finally {
      this.#rt.clearTimeout(timer);
    }
  }

  async #whenUsable(key: string): Promise<void> {
    if (!this.#settledOnce) await this.#settled;
    if (this.#refusal !== undefined) throw this.#refusal;
    if (!this.#up) {
      throw new NodeUnavailableError(
        `node ${JSON.stringify(this.id)} (${this.spec.address}) is down (${this.#conn.status})`,
        { nodeId: this.id, key, cause: this.#lastError },
      );
    }
  }
}

function isRefusal(error: ShardlockError): boolean {
  return (
    error.code === 'ERR_NODE_PERMISSION' ||
    error.code === 'ERR_EVICTION_POLICY' ||
    error.code === 'ERR_COMMAND_FAILED'
  );
}
