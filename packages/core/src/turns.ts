import type { Runtime } from './runtime.js';

/** An acquire waiting in this process for its turn at a key. */
export interface Waiter {
  /**
   * Called when the turn is the waiter's: it makes its first attempt now. `handoff`: a local
   * release of the key was just queued, so the attempt lands in the same batch right behind
   * it (docs/contention.md, local handoff).
   */
  start(handoff: boolean): void;
}

/** A lock holding a turn, as far as the line needs to know it. */
export interface TurnHolder {
  isValid(): boolean;
  /** When its holder stops believing it (monotonic ms). */
  readonly deadline: number;
}

interface Line {
  /** Who has the turn: a waiter whose acquire is under way, or the lock it won. */
  owner: Waiter | TurnHolder;
  /** In arrival order; made on the first, as most turns pass with nobody waiting. */
  waiters: Waiter[] | undefined;
  /** While others wait behind a lock: when to check whether it is still held. */
  timer: unknown;
}

/**
 * The local lines (docs/contention.md): acquires of one key in one process take turns, and
 * only the one whose turn it is talks to Redis. The others wait here, in arrival order, and
 * cost nothing on the servers. A turn passes when its acquire fails, its lock is released or
 * lost, or its lock's validity runs out without a release.
 */
export class Turns {
  readonly #rt: Runtime;
  readonly #lines = new Map<string, Line>();

  /** @param runtime - timers for the check of a lock that is never released */
  constructor(runtime: Runtime) {
    this.#rt = runtime;
  }

  /** Gives `waiter` the turn of `key` when nobody in this process has it; else false. */
  take(key: string, waiter: Waiter): boolean {
    if (this.#lines.has(key)) return false;
    this.#lines.set(key, { owner: waiter, waiters: undefined, timer: undefined });
    return true;
  }

  /**
   * Queues `waiter` for the turn of `key` (taken by someone else).
   * @returns removes the waiter from the line; false when it is no longer in it (its turn
   *   came, or it was removed)
   */
  join(key: string, waiter: Waiter): () => boolean {
    const line = this.#lines.get(key)!;
    const waiters = (line.waiters ??= []);
    waiters.push(waiter);
    this.#watch(key, line);
    return () => {
      const at = waiters.indexOf(waiter);
      if (at < 0) return false;
      waiters.splice(at, 1);
      return true;
    };
  }

  /** The acquire of `waiter` won `lock`: the turn stays with the lock until it is done. */
  won(key: string, waiter: Waiter, lock: TurnHolder): void {
    const line = this.#lines.get(key);
    if (line?.owner !== waiter) return;
    line.owner = lock;
    this.#watch(key, line);
  }

  /**
   * `owner` is done with the turn of `key`: the next waiter starts (see {@link Waiter.start}
   * for `handoff`). A stale owner (one whose turn already passed) changes nothing.
   */
  pass(key: string, owner: Waiter | TurnHolder, handoff: boolean): void {
    const line = this.#lines.get(key);
    if (line?.owner !== owner) return;
    this.#rt.clearTimeout(line.timer);
    line.timer = undefined;
    const next = line.waiters?.shift();
    if (next === undefined) {
      this.#lines.delete(key);
      return;
    }
    line.owner = next;
    next.start(handoff);
  }

  /** With waiters behind a lock, checks at its deadline that it is still held. */
  #watch(key: string, line: Line): void {
    const owner = line.owner;
    if (line.timer !== undefined || (line.waiters?.length ?? 0) === 0 || !isHolder(owner)) {
      return;
    }
    line.timer = this.#rt.setTimeout(
      () => {
        line.timer = undefined;
        if (line.owner !== owner) return;
        // Extended since: look again at the new deadline.
        if (owner.isValid()) this.#watch(key, line);
        else this.pass(key, owner, false);
      },
      Math.max(0, owner.deadline - this.#rt.now()) + 1,
    );
  }
}

function isHolder(owner: Waiter | TurnHolder): owner is TurnHolder {
  return 'deadline' in owner;
}
