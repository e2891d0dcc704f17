import type { Lock } from './lock.js';

/**
 * Locks on several keys, taken all or nothing by `acquireMany()`. The keys may live on
 * different nodes; each keeps its own lease and fence.
 */
export class LockGroup implements AsyncDisposable {
  /** The locks, in the order their keys were given. */
  readonly locks: readonly Lock[];

  /** @internal Made by the client. */
  constructor(locks: readonly Lock[]) {
    this.locks = Object.freeze([...locks]);
  }

  /** The keys, in the order given. */
  get keys(): string[] {
    return this.locks.map((lock) => lock.key);
  }

  /** When the first lease of the group stops being believed: epoch ms. */
  get validUntil(): number {
    return Math.min(...this.locks.map((lock) => lock.validUntil));
  }

  /** The lock on `key`, if the group holds it. */
  get(key: string): Lock | undefined {
    return this.locks.find((lock) => lock.key === key);
  }

  /** Whether every lock of the group is still valid. */
  isValid(): boolean {
    return this.locks.every((lock) => lock.isValid());
  }

  /**
   * Extends every lock. Fails if any extension fails; the others stay extended.
   * @throws the first failure ({@link LockLostError} or {@link NodeUnavailableError})
   */
  async extend(ttl?: number): Promise<void> {
    const results = await Promise.allSettled(this.locks.map((lock) => lock.extend(ttl)));
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  }

  /**
   * Releases every lock.
   * @returns `true` when every lock was still ours
   * @throws the first node failure, after trying every lock
   */
  async release(): Promise<boolean> {
    const results = await Promise.allSettled(this.locks.map((lock) => lock.release()));
    let all = true;
    for (const result of results) {
      if (result.status === 'rejected') throw result.reason;
      all &&= result.value;
    }
    return all;
  }

  /** Releases every lock; for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
