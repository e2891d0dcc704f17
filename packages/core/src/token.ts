import { randomFillSync } from 'node:crypto';

const TOKEN_BYTES = 16;
const POOL_TOKENS = 256;

/**
 * Lock tokens: 128 bits from the operating system's CSPRNG, base64url (22 characters).
 * Random bytes are drawn 4 KiB at a time, which keeps the acquire path free of a syscall
 * per lock; each instance owns its pool, so nothing is shared between clients.
 */
export class TokenSource {
  readonly #pool = Buffer.allocUnsafe(TOKEN_BYTES * POOL_TOKENS);
  #offset = this.#pool.length;

  /** A fresh token. */
  next(): string {
    if (this.#offset === this.#pool.length) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const token = this.#pool.toString('base64url', this.#offset, this.#offset + TOKEN_BYTES);
    // Each token's bytes are used once: wipe them so a later dump of the pool reveals none.
    this.#pool.fill(0, this.#offset, this.#offset + TOKEN_BYTES);
    this.#offset += TOKEN_BYTES;
    return token;
  }
}
