import { NodePermissionError, NodeUnavailableError, type ShardlockError } from './errors.js';
import type { ListenHandlers } from './connection.js';
import type { RedisNode } from './node.js';
import type { Runtime } from './runtime.js';
import { abortError } from './sleep.js';

// Keys whose last wake-up is remembered for tries on their way (`wokenSince`).
const MAX_REMEMBERED = 10_000;

/** How a wait for a release ended: a wake-up message, or the fallback timer. */
export type WaitEnd = 'woken' | 'timer';

/**
 * The waiters of one client that wait for a release instead of polling (docs/contention.md).
 * A waiter waits for its key's message, from any node's subscriber, or for its fallback
 * timer (its backoff, at most the holder's remaining lease), whichever comes first: a
 * message that never comes delays it to the fallback, never past it.
 */
export class Wakeups {
  readonly #rt: Runtime;
  readonly #report: (error: ShardlockError) => void;
  /** Waiters by Redis key. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Messages so far, and the number of the last one per key (bounded: see `wake`). */
  #messages = 0;
  readonly #lastWake = new Map<string, number>();
  /** Nodes whose subscriber was opened, and those subscribed now. */
  readonly #opened = new Set<RedisNode>();
  readonly #listening = new Set<RedisNode>();

  /**
   * @param runtime - timers
   * @param report - told of a subscriber that cannot subscribe (once per node and cause)
   */
  constructor(runtime: Runtime, report: (error: ShardlockError) => void) {
    this.#rt = runtime;
    this.#report = report;
  }

  /**
   * Opens the subscribers of `nodes` that are not open yet: on a client's first contention
   * on a node, not before.
   */
  open(nodes: readonly RedisNode[]): void {
    for (const node of nodes) {
      if (this.#opened.has(node)) continue;
      this.#opened.add(node);
      node.listen(this.#handlers(node));
    }
  }

  /**
   * Waits for a wake-up of `redisKey`, at most `ms`.
   * @throws {@link LockAbortedError} when `signal` aborts
   */
  wait(
    redisKey: string,
    ms: number,
    signal: AbortSignal | undefined,
    key: string,
  ): Promise<WaitEnd> {
    return new Promise((resolve, reject) => {
      let set = this.#waiters.get(redisKey);
      if (set === undefined) {
        set = new Set();
        this.#waiters.set(redisKey, set);
      }
      const waiters = set;
      const finish = (): void => {
        this.#rt.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(redisKey) === waiters) {
          this.#waiters.delete(redisKey);
        }
      };
      const wake = (): void => {
        finish();
        resolve('woken');
      };
      const onAbort = (): void => {
        finish();
        reject(abortError(signal, key));
      };
      const timer = this.#rt.setTimeout(() => {
        finish();
        resolve('timer');
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.add(wake);
    });
  }

  /** A stamp to pass to {@link wokenSince}: taken before a try is sent. */
  stamp(): number {
    return this.#messages;
  }

  /**
   * Whether a release of `redisKey` was announced after `stamp`: a waiter whose try was on
   * its way then was not listening, and must not wait for a message that already came.
   */
  wokenSince(redisKey: string, stamp: number): boolean {
    return (this.#lastWake.get(redisKey) ?? -1) >= stamp;
  }

  /** Wakes the waiters of `redisKey`. */
  wake(redisKey: string): void {
    // Remembered for the tries on their way; bounded, as a forgotten wake-up only delays a
    // waiter to its fallback poll.
    if (this.#lastWake.size >= MAX_REMEMBERED) this.#lastWake.clear();
    this.#lastWake.set(redisKey, this.#messages++);
    const waiters = this.#waiters.get(redisKey);
    if (waiters !== undefined) for (const wake of [...waiters]) wake();
  }

  /**
   * A subscriber came up or went down: messages sent while it was away are lost, so every
   * waiter tries again now (then waits again, for a message or its fallback poll).
   */
  #changed(node: RedisNode, up: boolean): void {
    const changed = up ? !this.#listening.has(node) : this.#listening.delete(node);
    if (up && !node.closed) this.#listening.add(node);
    if (!changed) return;
    for (const waiters of [...this.#waiters.values()]) for (const wake of [...waiters]) wake();
  }

  #handlers(node: RedisNode): ListenHandlers {
    let reported = '';
    return {
      message: (text) => this.wake(text),
      state: (up) => this.#changed(node, up),
      error: (cause) => {
        if (cause.message === reported) return;
        reported = cause.message;
        const context = { nodeId: node.id, cause };
        this.#report(
          /NOPERM|no permissions/i.test(cause.message)
            ? new NodePermissionError(
                `node ${JSON.stringify(node.id)}: the client's Redis user may not SUBSCRIBE to its wake-up channel (${cause.message}); waiters poll instead; see the README for the rule a lock user needs`,
                'subscribe',
                context,
              )
            : new NodeUnavailableError(
                `node ${JSON.stringify(node.id)}: the wake-up subscriber failed: ${cause.message}; waiters poll until it is back`,
                context,
              ),
        );
      },
    };
  }
}
