import type { ShardlockError } from './errors.js';
import type { Hello } from './hello.js';
import type { Runtime } from './runtime.js';

/**
 * A node being added: its first contact, or why it failed, and the waits of `addNode` that
 * end early when either comes.
 */
export class Joining {
  readonly #rt: Runtime;
  #hello: Hello | undefined;
  #failure: ShardlockError | undefined;
  #wake: () => void = () => undefined;

  constructor(runtime: Runtime) {
    this.#rt = runtime;
  }

  /** Throws why the join failed, if it did: a method, so a check after an await is not elided. */
  throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The node's server answered. */
  met(hello: Hello): void {
    this.#hello = hello;
    this.#wake();
  }

  /** The node went down or was refused; the first reason stays. */
  failed(error: ShardlockError): void {
    this.#failure ??= error;
    this.#wake();
  }

  /**
   * Waits for the first contact, at most `ms`.
   * @throws the failure, or `timedOut()` when nothing came
   */
  async contact(ms: number, timedOut: () => ShardlockError): Promise<Hello> {
    await this.wait(ms, () => this.#hello !== undefined);
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#hello === undefined) throw timedOut();
    return this.#hello;
  }

  /** Waits `ms`, or until `done()` holds or the join fails. */
  async wait(ms: number, done: () => boolean = () => false): Promise<void> {
    if (done() || this.#failure !== undefined) return;
    await new Promise<void>((resolve) => {
      const timer = this.#rt.setTimeout(resolve, ms);
      this.#wake = () => {
        if (!done() && this.#failure === undefined) return;
        this.#rt.clearTimeout(timer);
        resolve();
      };
    });
  }
}
