import {
  asError,
  LockTimeoutError,
  NodeQuarantinedError,
  NodeUnavailableError,
  type ShardlockError,
} from './errors.js';
import type { LockEngine } from './engine.js';
import { backoff, type ResolvedAcquireOptions } from './acquire-options.js';
import type { RedisNode } from './node.js';
import { abortError, isAborted, sleep } from './sleep.js';

/** What a waiting call is after, for its messages: a key, or a group of keys. */
export interface Target {
  /** The key errors name (the first key of a group). */
  readonly key: string;
  /** `all of 3 keys`; the quoted key when absent (built only for an error message). */
  readonly what?: string;
  /** How many locks a grant is (`acquireMany`'s keys); 1 when absent. */
  readonly keys?: number;
}

const EXPIRED = Symbol('expired');

/**
 * What came before an attempt in one call: nothing, a key found held, or a try whose token
 * may still be granted or released somewhere (it threw: its reply may be lost; or it was
 * granted too late and is being released): the next must use a fresh token.
 */
export type After = 'start' | 'held' | 'fresh';

/** What a call tries for, and how to give back a prize nobody will receive. */
export interface Tries<T> {
  /** One try: the prize, or how long the holder's lease still lasts (ms). */
  attempt(after: After): Promise<T | number>;
  /** Gives back a prize that arrived after its caller had gone. */
  free(prize: T): Promise<unknown>;
}

/** A call that waits for releases rather than polling (docs/contention.md). */
export interface Waiting<T> {
  /** The first attempt, already sent (a local handoff); made by the loop when absent. */
  readonly first?: Promise<T | number> | undefined;
  /** When the call began (monotonic ms), for `waitTimeout`: before its wait in a local line. */
  readonly startedAt: number;
  /** `Wakeups.stamp()` before the first try was sent. */
  readonly stamp: number;
  /** The key's Redis key and the nodes a release of it may come from. */
  readonly wake: () => { readonly redisKey: string; readonly nodes: readonly RedisNode[] };
  /** Told once when the call ends: with its prize, or `undefined` when it failed. */
  readonly ended: (prize: T | undefined) => void;
}

/**
 * The one retry loop of `acquire`, `withLock` and `acquireMany`: tries, backs off (or waits
 * for a release, with `waiting`) while the key is held, waits out a quarantine when
 * `waitTimeout` reaches past it (spending no attempt), and ends at `waitTimeout` or on abort
 * even while an attempt is in flight. A prize that arrives after the caller has gone is
 * freed, never leaked.
 * @param work - what each try does (an object, not closures: nothing is made per call for it)
 * @throws {@link LockTimeoutError}, {@link LockAbortedError}, or what an attempt throws
 */
export function retry<T extends object>(
  engine: LockEngine,
  target: Target,
  work: Tries<T>,
  options: ResolvedAcquireOptions,
  waiting?: Waiting<T>,
): Promise<T> {
  // The common case, nothing to bound or abort and the key free, needs no loop: one promise
  // instead of the loop's async frame on every acquire (docs/performance.md).
  if (options.signal !== undefined || options.waitTimeout !== undefined) {
    return retryLoop(engine, target, work, options, undefined, waiting);
  }
  try {
    engine.checkOpen();
  } catch (error) {
    return Promise.reject(asError(error));
  }
  const started = waiting?.startedAt ?? engine.runtime.now();
  return (waiting?.first ?? work.attempt('start')).then(
    (result) => {
      if (typeof result === 'number') {
        engine.metrics.contended();
        return retryLoop(engine, target, work, options, { started, heldFor: result }, waiting);
      }
      engine.metrics.granted(engine.runtime.now() - started, target.keys);
      waiting?.ended(result);
      return result;
    },
    waiting === undefined
      ? undefined
      : (error: unknown) => {
          waiting.ended(undefined);
          throw error;
        },
  );
}

/** The first attempt, made before the loop: when, and how long the holder's lease lasts. */
interface FirstTry {
  readonly started: number;
  readonly heldFor: number;
}

async function retryLoop<T extends object>(
  engine: LockEngine,
  target: Target,
  work: Tries<T>,
  options: ResolvedAcquireOptions,
  first: FirstTry | undefined,
  waiting: Waiting<T> | undefined,
): Promise<T> {
  const { retry: policy, signal, waitTimeout } = options;
  const rt = engine.runtime;
  const started = first?.started ?? waiting?.startedAt ?? rt.now();
  // No waitTimeout: no bound on the wait as a whole (the retries bound it), and no waiting
  // out a quarantine.
  const until = waitTimeout === undefined ? Number.POSITIVE_INFINITY : started + waitTimeout;
  let made = first;
  let sent = first === undefined ? waiting?.first : undefined;
  let after: After = 'start';
  // Wake-ups counted before the last try was sent (the first one's: from the call's start).
  let stamp = waiting === undefined ? 0 : waiting.stamp;
  const free = (prize: T): Promise<unknown> => work.free(prize);
  try {
    for (let tries = 0; ; tries++) {
      let result: T | number | typeof EXPIRED;
      if (made !== undefined) {
        result = made.heldFor;
        made = undefined;
      } else {
        if (isAborted(signal)) throw abortError(signal, target.key);
        engine.checkOpen();
        stamp = engine.wakeups.stamp();
        const pending: Promise<T | number> = sent ?? work.attempt(after);
        sent = undefined;
        try {
          result = await bounded(engine, pending, until, signal, target.key, free);
        } catch (error) {
          after = 'fresh';
          // Fail fast, or wait when asked to: only a waitTimeout that covers it waits it out.
          if (
            error instanceof NodeQuarantinedError &&
            waitTimeout !== undefined &&
            rt.now() + error.retryAfter <= until
          ) {
            // Waiting out a quarantine is not a retry against a holder: it spends no attempt.
            tries--;
            await sleep(rt, error.retryAfter + 1, signal, target.key);
            continue;
          }
          // A node that just failed is marked down within a health check or two (then its keys
          // are quarantined, and waited out as above): a caller who asked to wait tries again.
          if (error instanceof NodeUnavailableError && waitTimeout !== undefined) {
            const delay = Math.min(backoff(policy, tries + 1, 0, rt.random), until - rt.now());
            if (tries >= policy.attempts || delay < 0) throw error;
            await sleep(rt, delay, signal, target.key);
            continue;
          }
          throw error;
        }
      }
      if (result === EXPIRED) throw timeout(engine, target, tries + 1, started);
      if (typeof result !== 'number') {
        engine.metrics.granted(rt.now() - started, target.keys);
        waiting?.ended(result);
        return result;
      }
      // 0: also a grant that came too late and is being released by its token.
      after = result === 0 ? 'fresh' : 'held';
      // The first attempt made before the loop was counted there.
      if (tries > 0 || first === undefined) engine.metrics.contended();
      const delay = Math.min(backoff(policy, tries + 1, result, rt.random), until - rt.now());
      if (tries >= policy.attempts || delay < 0) throw timeout(engine, target, tries + 1, started);
      const wake = waiting?.wake();
      if (wake !== undefined) {
        // A release announced while the try was on its way: try again now.
        if (engine.wakeups.wokenSince(wake.redisKey, stamp)) {
          if (waitTimeout !== undefined) tries--;
          continue;
        }
        // The backoff stays the fallback; a release cuts it short (docs/contention.md).
        engine.wakeups.open(wake.nodes);
        const end = await engine.wakeups.wait(wake.redisKey, delay, signal, target.key);
        // A wake-up is a release, not a poll: under a waitTimeout it spends no attempt.
        if (end === 'woken' && waitTimeout !== undefined) tries--;
        continue;
      }
      await sleep(rt, delay, signal, target.key);
    }
  } catch (error) {
    waiting?.ended(undefined);
    throw error;
  }
}

/**
 * An attempt bounded by `until` and `signal`. The attempt itself cannot be called back (its
 * command is on the wire), so a prize it brings after the caller has gone is freed.
 */
export function bounded<T extends object>(
  engine: LockEngine,
  attempt: Promise<T | number>,
  until: number,
  signal: AbortSignal | undefined,
  key: string,
  free: (prize: T) => Promise<unknown>,
): Promise<T | number | typeof EXPIRED> {
  // The common case pays nothing: no bound, nothing to abort.
  if (until === Number.POSITIVE_INFINITY && signal === undefined) return attempt;
  const rt = engine.runtime;
  const freeLate = (value: T | number): void => {
    if (typeof value === 'number') return;
    free(value).catch((error: unknown) => engine.reportBackground(error as ShardlockError));
  };
  return new Promise((resolve, reject) => {
    let done = false;
    let timer: unknown;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      rt.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (finish()) reject(abortError(signal, key));
    };
    if (until !== Number.POSITIVE_INFINITY) {
      timer = rt.setTimeout(
        () => {
          if (finish()) resolve(EXPIRED);
        },
        Math.max(0, until - rt.now()),
      );
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    attempt.then(
      (value) => {
        // A grant that raced the abort: the caller has gone, so it must not outlive it.
        if (isAborted(signal) && finish()) {
          freeLate(value);
          reject(abortError(signal, key));
        } else if (finish()) resolve(value);
        else freeLate(value);
      },
      (error: unknown) => {
        if (finish()) reject(asError(error));
      },
    );
  });
}

function timeout(
  engine: LockEngine,
  target: Target,
  attempts: number,
  started: number,
): LockTimeoutError {
  engine.metrics.timedOut();
  const waited = Math.round(engine.runtime.now() - started);
  return new LockTimeoutError(
    `could not acquire ${target.what ?? JSON.stringify(target.key)} in ${attempts} attempts over ${waited} ms: it is held by another owner`,
    { key: target.key, attempts, nodeId: ownerOf(engine, target.key) },
  );
}

/** The key's owner for an error's context; none when no node serves. */
function ownerOf(engine: LockEngine, key: string): string | undefined {
  const ring = engine.membership.ring;
  return ring.size === 0 ? undefined : ring.owner(key);
}
