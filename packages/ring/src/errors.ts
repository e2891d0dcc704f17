/**
 * Stable codes of {@link RingError}. A code never changes once released; match on it
 * rather than on the message.
 */
export type RingErrorCode =
  /** The ring has no node, and the call needs one. */
  | 'ERR_RING_EMPTY'
  /** Two nodes share an id, or `add()` names an id the ring already has. */
  | 'ERR_RING_DUPLICATE_NODE'
  /** A node is neither a non-empty, well-formed string nor `{ id, weight? }`. */
  | 'ERR_RING_INVALID_NODE'
  /** A weight is not a finite number in the allowed range. */
  | 'ERR_RING_INVALID_WEIGHT'
  /** An option is unknown or out of range. */
  | 'ERR_RING_INVALID_OPTION'
  /** `owners()` was given a count that is not a positive integer. */
  | 'ERR_RING_INVALID_COUNT'
  /** A key is neither a well-formed string nor a `Uint8Array`. */
  | 'ERR_RING_INVALID_KEY'
  /** `remove()` names an id the ring does not have. */
  | 'ERR_RING_UNKNOWN_NODE'
  /** The nodes, weights and `vnodes` together ask for more points than a ring holds. */
  | 'ERR_RING_TOO_LARGE';

/**
 * The one error type of `@shardlock/ring`. Every failure is thrown before the ring (or any
 * ring derived from it) changes, so a caught `RingError` leaves nothing half-done.
 *
 * @example
 * ```ts
 * try { new HashRing(['a', 'a']); }
 * catch (e) { if (e instanceof RingError && e.code === 'ERR_RING_DUPLICATE_NODE') … }
 * ```
 */
export class RingError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: RingErrorCode;
  override readonly name = 'RingError';

  /**
   * @param code - stable reason
   * @param message - what was expected and what was received
   * @param options - `cause`, when another error led to this one
   */
  constructor(code: RingErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Describes a received value for an error message without dumping large objects. */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  return typeof value === 'object' ? 'an object' : typeof value;
}
