import { acquireChannel, traceAcquire } from './diagnostics.js';
import type { LockEngine } from './engine.js';
import type { Lock } from './lock.js';
import { backoff, type ResolvedAcquireOptions } from './acquire-options.js';
import type { ResolvedRetryOptions } from './options.js';
import { LockTimeoutError } from './errors.js';
import { retry, type After, type Target, type Tries, type Waiting } from './retry.js';
import { OP_FAIR, OP_MARK, OP_POLITE, OP_WAIT } from './scripts/batch.js';
import { abortError, isAborted } from './sleep.js';
import type { RedisNode } from './node.js';
import type { Waiter } from './turns.js';

/**
 * Acquires `key`, waiting while someone else holds it: for a release (`wakeUp`, after its
 * turn in this process's line for the key) or with backoff.
 * @throws {@link LockTimeoutError} when retries or `waitTimeout` run out
 * @throws {@link LockAbortedError} when `signal` aborts; a late grant is released
 * @throws {@link NodeUnavailableError} when the key's node cannot be reached
 */
export function acquireLock(
  engine: LockEngine,
  key: string,
  options: ResolvedAcquireOptions,
): Promise<Lock> {
  // A closure for the trace only when someone listens: this is every acquire's path.
  if (acquireChannel.hasSubscribers) {
    return traceAcquire(engine.client, key, 1, options.ttl, () => acquireKey(engine, key, options));
  }
  return acquireKey(engine, key, options);
}

function acquireKey(
  engine: LockEngine,
  key: string,
  options: ResolvedAcquireOptions,
): Promise<Lock> {
  // No wake-ups, or a caller who will not wait (no retries): no line, no marks.
  if (!engine.options.wakeUp || options.retry.attempts === 0) {
    const plain = new PlainAcquire(engine, key, options.ttl);
    return retry(engine, plain, plain, options);
  }
  return new KeyAcquire(engine, key, options).run();
}

/**
 * One acquire of one key without wake-ups: its own target and tries, so that the retry loop
 * gets one small object per acquire and no closure (docs/performance.md).
 */
class PlainAcquire implements Target, Tries<Lock> {
  readonly key: string;
  readonly #engine: LockEngine;
  readonly #ttl: number;

  constructor(engine: LockEngine, key: string, ttl: number) {
    this.key = key;
    this.#engine = engine;
    this.#ttl = ttl;
  }

  attempt(): Promise<Lock | number> {
    return this.#engine.tryOnce(this.key, this.#ttl);
  }

  free(lock: Lock): Promise<boolean> {
    return lock.release();
  }
}

/**
 * One acquire of one key with wake-ups (docs/contention.md): it takes its turn in the key's
 * local line, then tries with one token for as long as its replies arrive, so that its
 * waiting mark (and its place in a fair line) stays the same from try to try.
 */
class KeyAcquire implements Target, Waiter, Tries<Lock>, Waiting<Lock> {
  /** The first attempt, when a local handoff sent it. */
  first: Promise<Lock | number> | undefined;
  readonly #engine: LockEngine;
  readonly #key: string;
  readonly #options: ResolvedAcquireOptions;
  readonly #startedAt: number;
  #token: string | undefined;
  /** Wake-ups counted before the first try (see `Wakeups.wokenSince`). */
  #stamp: number;
  /** Resolves the wait in the line with the first attempt, when the turn comes. */
  #turn: ((first: Promise<Lock | number> | undefined) => void) | undefined;

  constructor(engine: LockEngine, key: string, options: ResolvedAcquireOptions) {
    this.#engine = engine;
    this.#key = key;
    this.#options = options;
    this.#startedAt = engine.runtime.now();
    this.#stamp = engine.wakeups.stamp();
  }

  run(): Promise<Lock> {
    const turns = this.#engine.turns;
    if (turns.take(this.#key, this)) return this.#tryFor(undefined);
    return this.#waitTurn().then((turn) => this.#tryFor(turn.first));
  }

  /** The key, as the retry loop's target names it in its errors. */
  get key(): string {
    return this.#key;
  }

  start(handoff: boolean): void {
    const turn = this.#turn;
    this.#turn = undefined;
    this.#stamp = this.#engine.wakeups.stamp();
    turn?.(handoff ? this.#attempt('start', true) : undefined);
  }

  // What this acquire is to the retry loop (its Tries and Waiting): methods of its own, so
  // that an acquire that wins at once allocates no closures for it (docs/performance.md).
  get startedAt(): number {
    return this.#startedAt;
  }

  get stamp(): number {
    return this.#stamp;
  }

  wake(): { redisKey: string; nodes: readonly RedisNode[] } {
    return { redisKey: this.#engine.redisKey(this.#key), nodes: this.#engine.wakeNodes(this.#key) };
  }

  ended(lock: Lock | undefined): void {
    const engine = this.#engine;
    const key = this.#key;
    if (lock !== undefined) {
      engine.turns.won(key, this, lock);
      lock.joinLine();
      return;
    }
    // Its mark must not outlive it; its turn passes on.
    if (this.#token !== undefined) engine.forgetWait(key, this.#token);
    engine.turns.pass(key, this, false);
  }

  attempt(after: After): Promise<Lock | number> {
    return this.#attempt(after, false);
  }

  free(lock: Lock): Promise<boolean> {
    return lock.release();
  }

  #tryFor(first: Promise<Lock | number> | undefined): Promise<Lock> {
    this.first = first;
    return retry(this.#engine, this, this, this.#options, this);
  }

  #attempt(after: After, handoff: boolean): Promise<Lock | number> {
    const engine = this.#engine;
    // A try whose reply was lost may still run, and a grant that came too late is being
    // released by its token: the next try must not share it (that release would free it).
    if (after === 'fresh') this.#token = undefined;
    const token = (this.#token ??= engine.runtime.token());
    const op = this.#options.fair
      ? OP_FAIR
      : handoff
        ? OP_POLITE
        : after === 'held'
          ? OP_WAIT
          : OP_MARK;
    return engine.tryOnce(this.#key, this.#options.ttl, op, token);
  }

  /**
   * Waits in the local line; resolves when the turn comes, with its first attempt if sent
   * (wrapped: a promise resolved with a promise would wait for it).
   */
  #waitTurn(): Promise<{ first: Promise<Lock | number> | undefined }> {
    const engine = this.#engine;
    const rt = engine.runtime;
    const { signal, waitTimeout } = this.#options;
    const key = this.#key;
    if (isAborted(signal)) return Promise.reject(abortError(signal, key));
    // Bounded as the caller bounded its wait: by waitTimeout, else by the time its retries
    // would have polled (it makes no attempt while in the line).
    const { retry } = this.#options;
    const bound = waitTimeout ?? pollingTime(retry, rt.random);
    return new Promise((resolve, reject) => {
      const leave = engine.turns.join(key, this);
      const done = (): void => {
        rt.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        if (!leave()) return;
        done();
        reject(abortError(signal, key));
      };
      const timer = rt.setTimeout(() => {
        if (!leave()) return;
        done();
        engine.metrics.timedOut();
        const attempts = waitTimeout === undefined ? retry.attempts + 1 : 0;
        reject(
          new LockTimeoutError(
            `could not acquire ${JSON.stringify(key)} in ${Math.round(bound)} ms: another acquire in this process held it all along`,
            { key, attempts },
          ),
        );
      }, bound);
      this.#turn = (first) => {
        done();
        resolve({ first });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** How long a caller's retries would poll a key that stays held: the sum of their backoffs. */
function pollingTime(retry: ResolvedRetryOptions, random: () => number): number {
  let total = 0;
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    total += backoff(retry, attempt, Number.POSITIVE_INFINITY, random);
    if (total >= MAX_TIMER) return MAX_TIMER;
  }
  return total;
}

// setTimeout's longest delay.
const MAX_TIMER = 2_147_483_647;
