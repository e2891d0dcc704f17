import { hashring, raw } from './raw.js';
import { redlock, redlock3 } from './redlock.js';
import { semaphore } from './semaphore.js';
import { shardlock, shardlockQ3, shardlockQ5 } from './shardlock.js';
import type { Contender } from './types.js';

/** Every contender the bench knows, by name, in report order. */
export const CONTENDERS: ReadonlyMap<string, Contender> = new Map(
  [shardlock, shardlockQ3, shardlockQ5, raw, hashring, redlock, redlock3, semaphore].map((c) => [
    c.name,
    c,
  ]),
);

/** Those that run when `--contenders` is not given (`shardlock-q5` only with `--replicas 5`). */
export const DEFAULT_CONTENDERS: readonly string[] = [...CONTENDERS.keys()].filter(
  (name) => name !== shardlockQ5.name,
);

export { SHARDLOCK_MODES } from './shardlock.js';
