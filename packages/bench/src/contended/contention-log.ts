/**
 * What one process saw of its acquires, as parallel columns (structured-clone friendly, so a
 * child sends it over IPC as is). Times are ms since a base instant of
 * `process.hrtime.bigint()`, CLOCK_MONOTONIC on Linux, so the logs of several processes on one
 * machine share a time line.
 */
export interface ContentionRecords {
  /** Hot key index of each acquire. */
  readonly keys: Int32Array;
  /** When the acquire was called. */
  readonly starts: Float64Array;
  /** When it was granted; NaN when it gave up (timeout) or failed. */
  readonly grants: Float64Array;
  /** When the holder called release, or when a failed acquire gave up. */
  readonly ends: Float64Array;
}

const INITIAL_CAPACITY = 4_096;

/** Records every acquire of a contended run: cheap appends into growing typed arrays. */
export class ContentionLog {
  readonly #offset: number;
  #count = 0;
  #keys = new Int32Array(INITIAL_CAPACITY);
  #starts = new Float64Array(INITIAL_CAPACITY);
  #grants = new Float64Array(INITIAL_CAPACITY);
  #ends = new Float64Array(INITIAL_CAPACITY);

  /** @param base - the shared base instant, from `process.hrtime.bigint()` */
  constructor(base: bigint) {
    // performance.now() reads the same monotonic clock without a BigInt per call: the
    // offset from its origin to the shared base is taken once.
    this.#offset = Number(process.hrtime.bigint() - base) / 1e6 - performance.now();
  }

  /** Now, in ms since the base instant. */
  now(): number {
    return performance.now() + this.#offset;
  }

  /** Adds one acquire; `grant` is NaN when it was not granted. */
  add(key: number, start: number, grant: number, end: number): void {
    if (this.#count === this.#keys.length) this.#grow();
    const i = this.#count++;
    this.#keys[i] = key;
    this.#starts[i] = start;
    this.#grants[i] = grant;
    this.#ends[i] = end;
  }

  /** The records so far (copies, trimmed to their count). */
  records(): ContentionRecords {
    const n = this.#count;
    return {
      keys: this.#keys.slice(0, n),
      starts: this.#starts.slice(0, n),
      grants: this.#grants.slice(0, n),
      ends: this.#ends.slice(0, n),
    };
  }

  #grow(): void {
    const size = this.#keys.length * 2;
    const grow = <T extends Int32Array | Float64Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.#keys = grow(this.#keys, new Int32Array(size));
    this.#starts = grow(this.#starts, new Float64Array(size));
    this.#grants = grow(this.#grants, new Float64Array(size));
    this.#ends = grow(this.#ends, new Float64Array(size));
  }
}

/** The records of several processes as one. */
export function concatRecords(parts: readonly ContentionRecords[]): ContentionRecords {
  // One process: its records are already copies of their own.
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((sum, part) => sum + part.keys.length, 0);
  const out = {
    keys: new Int32Array(n),
    starts: new Float64Array(n),
    grants: new Float64Array(n),
    ends: new Float64Array(n),
  };
  let at = 0;
  for (const part of parts) {
    out.keys.set(part.keys, at);
    out.starts.set(part.starts, at);
    out.grants.set(part.grants, at);
    out.ends.set(part.ends, at);
    at += part.keys.length;
  }
  return out;
}
