import type { Connection } from './connection.js';
import type { Runtime } from './runtime.js';
import type { BatchReply } from './scripts/batch.js';

// A full batch is sent at once, even while another call is in flight, so that the node
// starts on it while this process builds the next: with one node and 256 pairs in flight,
// one batch of everything left the client and the server taking turns, each idle half the
// time; 64 raised pairs/s there by a third or more (docs/performance.md). 64 ops already
// amortize a call's fixed cost, and a larger batch holds the node's single thread longer
// against other clients.
const MAX_BATCH = 64;

/** Receives one op's reply, or the error of its failed call. Must not throw. */
export type OpCallback = (reply: BatchReply | undefined, error: Error | undefined) => void;

interface Batch {
  /** `[fenceKey, ...keys]`. */
  readonly keys: string[];
  readonly args: string[];
  /** Indexes (into `args`) of the ops whose loss must be cleaned up. */
  readonly cleanup: number[];
  /** Indexes of the ops queued with a callback, and their callbacks. */
  readonly called: number[];
  readonly callbacks: OpCallback[];
  readonly done: Promise<BatchReply[]>;
}

/**
 * The ops one node gets this turn, sent as one call of the batch script (`scripts/batch.ts`).
 * No timer either way: an idle node gets its batch at the end of the tick (lowest latency);
 * a busy node keeps one batch in flight and collects the next until its reply is in, or
 * until the next holds `MAX_BATCH` ops.
 * Measured under 256 in flight on 5 nodes, that cut client and server CPU per lock by about
 * a fifth and raised throughput 6–39 % over sending every tick.
 */
export class Batcher {
  readonly #conn: Connection;
  readonly #rt: Runtime;
  readonly #fenceKey: string;
  readonly #failed: (cause: unknown) => Error;
  readonly #answered: () => void;
  readonly #lost: (redisKey: string, arg: string) => void;
  readonly #observe: (size: number, roundTrip: number, failed: boolean) => void;
  #pending: Batch | undefined;
  #resolve: ((reply: BatchReply[]) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #inFlight = 0;
  #ops = 0;

  /**
   * @param fenceKey - KEYS[1] of every call
   * @param failed - the error the ops of a failed call reject with
   * @param answered - called after every reply that arrived
   * @param lost - called, before its caller hears of it, for each op queued with `cleanup`
   *   whose call failed (its reply is lost; the server may still run it)
   * @param observe - told of every call: its ops, its round trip in ms, whether it failed
   */
  constructor(
    conn: Connection,
    runtime: Runtime,
    fenceKey: string,
    failed: (cause: unknown) => Error,
    answered: () => void,
    lost: (redisKey: string, arg: string) => void,
    observe: (size: number, roundTrip: number, failed: boolean) => void,
  ) {
    this.#conn = conn;
    this.#rt = runtime;
    this.#fenceKey = fenceKey;
    this.#failed = failed;
    this.#answered = answered;
    this.#lost = lost;
    this.#observe = observe;
  }

  /** Ops queued or sent, not yet answered. */
  get ops(): number {
    return this.#ops;
  }

  /**
   * Queues one op; resolves to its reply, or rejects when the call fails. One promise per
   * op and no wrapper around it: this is the hot path (docs/performance.md).
   */
  run(redisKey: string, arg: string, cleanup: boolean): Promise<BatchReply> {
    const batch = this.#queue(redisKey, arg, cleanup);
    const index = batch.args.length - 1;
    return batch.done.then((replies) => replies[index]!);
  }

  /**
   * Queues one op whose reply goes to `callback`: no promise at all, for callers that wait
   * for several ops at once (a quorum's replicas).
   */
  runWith(redisKey: string, arg: string, cleanup: boolean, callback: OpCallback): void {
    const batch = this.#queue(redisKey, arg, cleanup);
    batch.called.push(batch.args.length - 1);
    batch.callbacks.push(callback);
  }

  #queue(redisKey: string, arg: string, cleanup: boolean): Batch {
    let batch = this.#pending;
    if (batch === undefined || batch.args.length >= MAX_BATCH) batch = this.#open();
    const index = batch.args.push(arg) - 1;
    batch.keys.push(redisKey);
    if (cleanup) batch.cleanup.push(index);
    this.#ops++;
    return batch;
  }

  #open(): Batch {
    this.#flush();
    const done = new Promise<BatchReply[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const batch: Batch = {
      keys: [this.#fenceKey],
      args: [],
      cleanup: [],
      called: [],
      callbacks: [],
      done,
    };
    this.#pending = batch;
    if (this.#inFlight === 0) {
      this.#rt.soon(() => {
        if (this.#pending === batch) this.#flush();
      });
    }
    return batch;
  }

  /**
   * Fails the ops still queued, unsent, as a failed call would (`lost` for those queued with
   * `cleanup`): for a node just taken for down. Sent later, behind a batch whose reply was
   * lost, they would land after their callers gave up, and after the releases the client
   * now owes the node (found by `pnpm sim --replicas 3 --focus quorum-lost-replies --seed
   * 926`; docs/safety.md, lost replies).
   */
  abandon(cause: Error): void {
    const batch = this.#pending;
    if (batch === undefined) return;
    const reject = this.#reject!;
    this.#pending = undefined;
    this.#ops -= batch.args.length;
    this.#fail(batch, reject, cause, 0);
  }

  #fail(batch: Batch, reject: (error: unknown) => void, cause: unknown, roundTrip: number): void {
    for (const index of batch.cleanup) this.#lost(batch.keys[index + 1]!, batch.args[index]!);
    this.#observe(batch.args.length, roundTrip, true);
    const error = this.#failed(cause);
    // A batch of callback ops only has no promise waiting: rejecting it would be an
    // unhandled rejection.
    if (batch.called.length < batch.args.length) reject(error);
    for (const callback of batch.callbacks) callback(undefined, error);
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch === undefined) return;
    const resolve = this.#resolve!;
    const reject = this.#reject!;
    this.#pending = undefined;
    this.#inFlight++;
    const sentAt = this.#rt.now();
    this.#conn
      .batch(batch.keys, batch.args)
      .finally(() => {
        this.#inFlight--;
        this.#ops -= batch.args.length;
        const next = this.#pending;
        // After this reply's continuations have queued their next ops, not before.
        if (next !== undefined) {
          this.#rt.later(() => {
            if (this.#pending === next) this.#flush();
          });
        }
      })
      .then(
        (replies) => {
          this.#observe(batch.args.length, this.#rt.now() - sentAt, false);
          resolve(replies);
          const { called, callbacks } = batch;
          for (let i = 0; i < called.length; i++) callbacks[i]!(replies[called[i]!], undefined);
          this.#answered();
        },
        (cause: unknown) => this.#fail(batch, reject, cause, this.#rt.now() - sentAt),
      );
  }
}
