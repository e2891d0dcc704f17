import { ioredisConnection, type ConnectionFactory } from './connection.js';
import { TokenSource } from './token.js';

/**
 * Everything a client takes from its surroundings: clocks, timers, randomness, tokens and
 * connections. The default is the process's own; the simulator in `test/sim` passes a
 * virtual one (through `internal.ts`), so the real client code runs against simulated nodes
 * on a virtual clock and every schedule replays exactly.
 */
export interface Runtime {
  /** Monotonic ms (`performance.now()`). */
  now(): number;
  /** Epoch ms (`Date.now()`), only for `Lock.validUntil`. */
  wallNow(): number;
  /** Calls `callback` after `ms`; the timer never keeps the process alive. */
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Calls `callback` once this tick's synchronous work is done (`process.nextTick`). */
  soon(callback: () => void): void;
  /** Calls `callback` after pending I/O callbacks (`setImmediate`). */
  later(callback: () => void): void;
  /** Uniform in [0, 1), for retry jitter. */
  readonly random: () => number;
  /** A fresh lock token: 128 bits from a CSPRNG in production. */
  token(): string;
  connect: ConnectionFactory;
}

/** The process's own runtime: real clocks, unref'd timers, crypto tokens, ioredis. */
export function defaultRuntime(): Runtime {
  const tokens = new TokenSource();
  return {
    now: () => performance.now(),
    wallNow: () => Date.now(),
    setTimeout: (callback, ms) => {
      const timer = setTimeout(callback, ms);
      timer.unref();
      return timer;
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    soon: (callback) => process.nextTick(callback),
    later: (callback) => setImmediate(callback),
    random: Math.random,
    token: () => tokens.next(),
    connect: ioredisConnection,
  };
}
