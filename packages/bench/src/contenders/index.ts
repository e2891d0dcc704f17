import { mutex } from './mutex.js';
import { hashring, raw } from './raw.js';
import { redlock, redlock3 } from './redlock.js';
import { redlockUniversal } from './redlock-universal.js';
import { semaphore } from './semaphore.js';
import { shardlock, shardlockFair, shardlockPoll, shardlockQ3, shardlockQ5 } from './shardlock.js';
import type { Contender } from './types.js';

/** Every contender the bench knows, by name, in report order. */
export const CONTENDERS: ReadonlyMap<string, Contender> = new Map(
  [
    shardlock,
    shardlockQ3,
    shardlockQ5,
    shardlockPoll,
    shardlockFair,
    raw,
    hashring,
    redlock,
    redlock3,
    semaphore,
    redlockUniversal,
    mutex,
  ].map((c) => [c.name, c]),
);

/** Those that run on fresh keys when `--contenders` is not given (`shardlock-q5` only with `--replicas 5`). */
export const DEFAULT_CONTENDERS: readonly string[] = [
  shardlock,
  shardlockQ3,
  raw,
  hashring,
  redlock,
  redlock3,
  semaphore,
  redlockUniversal,
].map((c) => c.name);

/**
 * Those that run on hot keys (`--keys`) when `--contenders` is not given: shardlock's three
 * ways of waiting, the single-node peers, and the in-process mutex as the floor (`--clients 1`
 * only).
 */
export const DEFAULT_CONTENDED_CONTENDERS: readonly string[] = [
  shardlock,
  shardlockPoll,
  shardlockFair,
  semaphore,
  redlock,
  redlockUniversal,
  mutex,
].map((c) => c.name);

export { SHARDLOCK_MODES } from './shardlock.js';

/**
 * Why `contender` cannot run in this workload (hot keys or fresh ones, one load process or
 * several), or `undefined` when it can.
 */
export function unfitReason(
  contender: Contender,
  workload: { readonly hot: boolean; readonly clients: number },
): string | undefined {
  if (contender.contendedOnly === true && !workload.hot) return 'runs on hot keys only (--keys)';
  if (contender.singleProcess === true && workload.clients > 1) {
    return 'locks within one process only (--clients 1)';
  }
  return undefined;
}
