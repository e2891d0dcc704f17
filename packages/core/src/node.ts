import { Redis, type RedisOptions } from 'ioredis';
import { NodeUnavailableError } from './errors.js';
import type { ResolvedNodeSpec } from './node-spec.js';
import { BATCH_SCRIPT } from './scripts/batch.js';

/** The ioredis commands the client uses, plus the batch script. */
interface BatchCommands {
  shardlockBatch(...args: (string | number)[]): Promise<number[]>;
}

/** What a node says about its server each time it is (re)connected. */
export interface ServerInfo {
  /** Changes when the server restarts: a restarted server may have lost its data. */
  readonly runId: string;
  /** How long the server has run, in ms (whole seconds, rounded down). */
  readonly uptimeMs: number;
}

/** Why a node was marked down. */
export type DownReason = 'connection' | 'health';

/** What a node reports to its client. */
export interface NodeListener {
  up(node: RedisNode, info: ServerInfo): void;
  down(node: RedisNode, reason: DownReason): void;
  error(node: RedisNode, error: Error): void;
}

/** How a node checks its health. */
export interface HealthOptions {
  /** ms between PINGs. */
  readonly interval: number;
  /** Failed PINGs in a row that mark the node down. */
  readonly threshold: number;
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
 * One node: one ioredis connection, its health, and the batch of ops this tick sends to it.
 * All ops queued for the node travel as one script call (see `scripts/batch.ts`).
 */
export class RedisNode {
  readonly id: string;
  readonly spec: ResolvedNodeSpec;
  readonly #redis: Redis & BatchCommands;
  readonly #fenceKey: string;
  readonly #listener: NodeListener;
  readonly #health: NodeJS.Timeout;
  readonly #healthThreshold: number;
  readonly #firstUp: Promise<void>;
  #onFirstUp: (() => void) | undefined;
  #pending: Batch | undefined;
  #resolve: ((reply: number[]) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #generation = 0;
  #everUp = false;
  #up = false;
  #failures = 0;
  #checking = false;
  #lastError: Error | undefined;
  #inFlight = 0;
  #closed = false;
  #unreachableReported = false;
  #batchesInFlight = 0;

  /**
   * @param spec - the node's validated spec
   * @param redisOptions - merged ioredis options (the client's, then the node's)
   * @param fenceKey - the node's fence counter key
   * @param listener - receives the node's state changes and errors
   * @param health - how often to PING, and how many failures mark it down
   */
  constructor(
    spec: ResolvedNodeSpec,
    redisOptions: RedisOptions,
    fenceKey: string,
    listener: NodeListener,
    health: HealthOptions,
  ) {
    this.id = spec.id;
    this.spec = spec;
    this.#fenceKey = fenceKey;
    this.#listener = listener;
    this.#healthThreshold = health.threshold;
    // ioredis' option types do not satisfy exactOptionalPropertyTypes; the values are its own.
    const options = redisOptions as never;
    const redis = spec.url === undefined ? new Redis(options) : new Redis(spec.url, options);
    redis.defineCommand('shardlockBatch', { lua: BATCH_SCRIPT });
    this.#redis = redis as Redis & BatchCommands;
    this.#firstUp = new Promise<void>((resolve, reject) => {
      this.#onFirstUp = resolve;
      redis.once('error', reject);
    }).catch((error: unknown) => {
      this.#lastError = error as Error;
    });
    redis.on('ready', () => void this.#serverUp());
    redis.on('close', () => {
      // Count each loss once. A connection the client closed on purpose (a removed node's)
      // is no failure: its leases are moot.
      if (this.#closed) return;
      if (this.#up) this.#markDown('connection');
      else if (!this.#everUp && !this.#unreachableReported) {
        // Never reached since the client started: down from now on, so that its keys fail
        // over once leases other clients may hold on it have run out.
        this.#unreachableReported = true;
        listener.down(this, 'connection');
      }
    });
    redis.on('error', (error: Error) => {
      this.#lastError = error;
      listener.error(this, error);
    });
    // A stopped (SIGSTOP) or hung server keeps its connection open: only PINGs find it.
    this.#health = setInterval(() => void this.#check(), health.interval);
    this.#health.unref();
  }

  /** Times this node was marked down; a lock granted in an earlier generation is gone. */
  get generation(): number {
    return this.#generation;
  }

  /** Whether the node is up: connected, answering health checks, its server info read. */
  get up(): boolean {
    return this.#up;
  }

  /** Whether the client closed this node's connection (it left the ring). */
  get closed(): boolean {
    return this.#closed;
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

  /** Reads run_id and uptime, then reports the node up. */
  async #serverUp(): Promise<void> {
    try {
      const info = await this.#redis.info('server');
      const runId = /run_id:(\w+)/.exec(info)?.[1] ?? '';
      const uptimeMs = Number(/uptime_in_seconds:(\d+)/.exec(info)?.[1] ?? 0) * 1000;
      if (this.#up || this.#redis.status !== 'ready') return;
      this.#up = true;
      this.#everUp = true;
      this.#failures = 0;
      this.#listener.up(this, { runId, uptimeMs });
      this.#onFirstUp?.();
    } catch (error) {
      this.#lastError = error as Error;
      this.#listener.error(this, error as Error);
    }
  }

  #markDown(reason: DownReason): void {
    this.#up = false;
    this.#generation++;
    this.#listener.down(this, reason);
  }

  async #check(): Promise<void> {
    if (this.#checking || this.#redis.status !== 'ready') return;
    this.#checking = true;
    try {
      await this.#redis.ping();
      this.#failures = 0;
      if (!this.#up) await this.#serverUp();
    } catch (error) {
      this.#failures++;
      this.#lastError = error as Error;
      if (this.#up && this.#failures >= this.#healthThreshold) this.#markDown('health');
    } finally {
      this.#checking = false;
    }
  }

  async run(redisKey: string, arg: string): Promise<number> {
    if (!this.#up) await this.#whenUsable(redisKey);
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
    clearInterval(this.#health);
    this.#closed = true;
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
    if (!this.#everUp) await this.#firstUp;
    if (!this.#up) {
      throw new NodeUnavailableError(
        `node ${JSON.stringify(this.id)} (${this.spec.address}) is down (${this.#redis.status})`,
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
