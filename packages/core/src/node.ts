import { Redis, type RedisOptions } from 'ioredis';
import { NodeUnavailableError } from './errors.js';
import type { ResolvedNodeSpec } from './node-spec.js';
import { BATCH_SCRIPT } from './scripts/batch.js';

/** The ioredis commands the client uses, plus the batch script. */
interface BatchCommands {
  shardlockBatch(...args: (string | number)[]): Promise<number[]>;
}

/** What a node reports to its client. */
export interface NodeListener {
  up(node: RedisNode): void;
  down(node: RedisNode): void;
  error(node: RedisNode, error: Error): void;
}

// A larger batch would hold the node's single thread too long and delay every other client.
const MAX_BATCH = 512;

interface Batch {
  /** `[fenceKey, ...lockKeys]`. */
  readonly keys: string[];
  readonly args: string[];
  readonly done: Promise<number[]>;
}

/**
 * One node: one ioredis connection and the batch of ops this tick sends to it. All ops
 * queued in one tick travel as one script call (see `scripts/batch.ts`).
 */
export class RedisNode {
  readonly id: string;
  readonly spec: ResolvedNodeSpec;
  readonly #redis: Redis & BatchCommands;
  readonly #fenceKey: string;
  readonly #listener: NodeListener;
  #pending: Batch | undefined;
  #resolve: ((reply: number[]) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #generation = 0;
  #everReady = false;
  #connected = false;
  #firstConnect: Promise<void>;
  #lastError: Error | undefined;
  #inFlight = 0;
  #batchesInFlight = 0;

  /**
   * @param spec - the node's validated spec
   * @param redisOptions - merged ioredis options (the client's, then the node's)
   * @param fenceKey - the node's fence counter key
   * @param listener - receives the node's state changes and errors
   */
  constructor(
    spec: ResolvedNodeSpec,
    redisOptions: RedisOptions,
    fenceKey: string,
    listener: NodeListener,
  ) {
    this.id = spec.id;
    this.spec = spec;
    this.#fenceKey = fenceKey;
    this.#listener = listener;
    // ioredis' option types do not satisfy exactOptionalPropertyTypes; the values are its own.
    const options = redisOptions as never;
    const redis = spec.url === undefined ? new Redis(options) : new Redis(spec.url, options);
    redis.defineCommand('shardlockBatch', { lua: BATCH_SCRIPT });
    this.#redis = redis as Redis & BatchCommands;
    this.#firstConnect = new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('error', reject);
    }).catch((error: unknown) => {
      this.#lastError = error as Error;
    });
    redis.on('ready', () => {
      this.#everReady = true;
      this.#connected = true;
      listener.up(this);
    });
    redis.on('close', () => {
      // Only a connection that was ready can have carried leases; count each loss once.
      if (!this.#connected) return;
      this.#connected = false;
      this.#generation++;
      listener.down(this);
    });
    redis.on('error', (error: Error) => {
      this.#lastError = error;
      listener.error(this, error);
    });
  }

  /** Times this node's connection was lost; a lock granted in an earlier generation is gone. */
  get generation(): number {
    return this.#generation;
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.#redis.status === 'ready';
  }

  /** Ops sent and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The ioredis connection status (`ready`, `connecting`, `reconnecting`, `end`, …). */
  get status(): string {
    return this.#redis.status;
  }

  /** The ioredis client, for health checks and tests. */
  get redis(): Redis {
    return this.#redis;
  }

  /**
   * Queues one op (see {@link BATCH_SCRIPT}) for this tick's batch and resolves with its reply.
   * @throws {@link NodeUnavailableError} when the node is down or the call fails
   */
  async run(redisKey: string, arg: string): Promise<number> {
    if (this.#redis.status !== 'ready') await this.#whenUsable(redisKey);
    let batch = this.#pending;
    if (batch === undefined || batch.args.length >= MAX_BATCH) batch = this.#open();
    const index = batch.args.push(arg) - 1;
    batch.keys.push(redisKey);
    this.#inFlight++;
    try {
      return (await batch.done)[index]!;
    } finally {
      this.#inFlight--;
    }
  }

  /** Closes the connection: politely when the node answers, at once otherwise. */
  async close(timeout: number): Promise<void> {
    const redis = this.#redis;
    if (redis.status === 'end') return;
    if (redis.status !== 'ready') {
      redis.disconnect();
      return;
    }
    const timer = setTimeout(() => redis.disconnect(), timeout);
    timer.unref();
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }

  async #whenUsable(key: string): Promise<void> {
    if (!this.#everReady) await this.#firstConnect;
    if (this.#redis.status !== 'ready') {
      throw new NodeUnavailableError(
        `node ${JSON.stringify(this.id)} (${this.spec.address}) is ${this.#redis.status}`,
        {
          nodeId: this.id,
          key,
          cause: this.#lastError,
        },
      );
    }
  }

  #open(): Batch {
    this.#flush();
    const done = new Promise<number[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const batch: Batch = { keys: [this.#fenceKey], args: [], done };
    this.#pending = batch;
    // No timer either way. An idle node gets the batch at the end of this tick (lowest
    // latency). A busy node keeps one batch in flight and collects the next until its reply
    // is in (see #flush): measured under 256 in flight on 5 nodes, that cut client and server
    // CPU per lock by about a fifth and raised throughput 6–39 % over sending every tick.
    if (this.#batchesInFlight === 0) {
      process.nextTick(() => {
        if (this.#pending === batch) this.#flush();
      });
    }
    return batch;
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch === undefined) return;
    const resolve = this.#resolve!;
    const reject = this.#reject!;
    this.#pending = undefined;
    this.#batchesInFlight++;
    this.#redis
      .shardlockBatch(batch.args.length + 1, ...batch.keys, ...batch.args)
      .finally(() => {
        this.#batchesInFlight--;
        const next = this.#pending;
        // After this reply's continuations have queued their next ops, not before.
        if (next !== undefined) {
          setImmediate(() => {
            if (this.#pending === next) this.#flush();
          });
        }
      })
      .then(resolve, (cause: unknown) => {
        const error = new NodeUnavailableError(
          `node ${JSON.stringify(this.id)} (${this.spec.address}) failed a lock command: ${(cause as Error).message}`,
          {
            nodeId: this.id,
            cause,
          },
        );
        this.#listener.error(this, error);
        reject(error);
      });
  }
}
