import type { RedisOptions } from 'ioredis';
import { DEFAULT_RING_OPTIONS } from '@shardlock/ring';
import { InvalidArgumentError } from './errors.js';
import { checkInteger, checkKnownKeys, checkNumber, received } from './validate.js';
import { parseNodeSpecs, type NodeSpec, type ResolvedNodeSpec } from './node-spec.js';
import { checkRedisOptions, type UserRedisOptions } from './redis-options.js';

/** How an acquire retries while the key is held by someone else. */
export interface RetryOptions {
  /**
   * Retries after the first attempt; 0 tries once.
   * @default 10
   */
  readonly attempts?: number;
  /**
   * Base delay before a retry, doubled after each one (exponential backoff), in ms.
   * @default 50
   */
  readonly delay?: number;
  /**
   * Upper bound of the backoff delay, in ms.
   * @default 1000
   */
  readonly maxDelay?: number;
  /**
   * Random extra delay from 0 to this, added to each retry so contenders spread out, in ms.
   * @default 50
   */
  readonly jitter?: number;
}

/** {@link RetryOptions} with defaults applied. */
export interface ResolvedRetryOptions {
  readonly attempts: number;
  readonly delay: number;
  readonly maxDelay: number;
  readonly jitter: number;
}

/** Options of {@link LockClient}. */
export interface LockClientOptions {
  /** The Redis (or Valkey) nodes keys are sharded over. At least one; ids are unique. */
  readonly nodes: readonly NodeSpec[];
  /**
   * Virtual nodes per unit of weight on the ring. Every client sharing nodes must agree.
   * @default 4096
   */
  readonly vnodes?: number;
  /**
   * Prefix of every Redis key the client writes: locks are `${keyPrefix}lock:${key}`, and
   * each node's fence counter is `${keyPrefix}fence`.
   * @default 'shardlock:'
   */
  readonly keyPrefix?: string;
  /**
   * Nodes each key is locked on: 1 (one owner per key, the fastest), or 3 or 5 (quorum: a
   * grant needs a majority of the key's replicas, so a node that fails, hangs or restarts
   * empty costs no key anything; docs/safety.md, quorum). Every client of a cluster must
   * agree; at least as many nodes as replicas.
   * @default 1
   */
  readonly replicas?: 1 | 3 | 5;
  /**
   * Lease of an acquire that names no `ttl`, in ms.
   * @default 10000
   */
  readonly defaultTtl?: number;
  /**
   * Longest lease any lock may have, in ms. Membership safety windows (quarantine,
   * handoff) are derived from it, so keep it as short as the work allows.
   * @default 60000
   */
  readonly maxTtl?: number;
  /**
   * Clock drift allowance: a lease of `ttl` ms is believed for `ttl − elapsed − drift`, where
   * `drift = ttl × driftFactor + 2` ms (Redlock's rule).
   * @default 0.01
   */
  readonly driftFactor?: number;
  /** Default retry behaviour of `acquire()`. */
  readonly retry?: RetryOptions;
  /**
   * Default bound of a whole `acquire()` wait, in ms; `undefined` waits as long as the retries do.
   * @default undefined
   */
  readonly waitTimeout?: number;
  /**
   * How long one command may wait for its node before it fails with `NodeUnavailableError`, in ms.
   * @default 1000
   */
  readonly commandTimeout?: number;
  /**
   * How often each node is checked with PING, in ms. A node that fails `failureThreshold`
   * checks in a row (or whose connection closes) is marked down.
   * @default 1000
   */
  readonly healthCheckInterval?: number;
  /**
   * Failed health checks in a row that mark a node down.
   * @default 2
   */
  readonly failureThreshold?: number;
  /**
   * How long after a membership change a key that moved must still win on its old owner as
   * well as its new one, in ms. Two clients that apply the same change `lag` ms apart never
   * grant a key twice while `lag ≤ handoffWindow − maxTtl − drift`. At least
   * `maxTtl + drift + detection lag` (detection lag: `healthCheckInterval × failureThreshold +
   * commandTimeout`), so that clients which see a node fail or return at different moments
   * stay safe too.
   * @default the larger of 2 × maxTtl and that minimum
   */
  readonly handoffWindow?: number;
  /**
   * Treat a node whose server started less than `maxTtl` + drift ago as possibly restarted
   * empty, and refuse its keys until then, also on a client that never saw it before. Turn
   * off only when no lock could have been granted on the node's previous run (a node started
   * for the purpose) or nodes persist every write.
   * @default true
   */
  readonly restartQuarantine?: boolean;
  /**
   * Wake waiters when a key is released instead of having them poll: a waiter that finds a
   * key held leaves a short-lived mark on the key's node, and a release of a marked key
   * notifies the waiting clients over one subscriber connection per node (opened on the
   * first contention). Waiters in one process queue locally, and only the first of them asks
   * Redis. `false` polls with the `retry` backoff, as before. docs/contention.md.
   * @default true
   */
  readonly wakeUp?: boolean;
  /**
   * Serve waiters of a key in the order they began to wait, across processes: a free key
   * goes to the waiter marked first (a waiter that died gives up its place when its mark
   * runs out). Needs `wakeUp`; one owner per key (`replicas: 1`). Per call: `acquire`'s
   * `fair`. docs/contention.md says what it costs.
   * @default false
   */
  readonly fair?: boolean;
  /**
   * Longest key, in UTF-16 code units.
   * @default 1024
   */
  readonly maxKeyLength?: number;
  /**
   * ioredis options for every node (TLS, username, password, db, connectTimeout, …); a
   * node's own `redis` options override them. The options in {@link OWNED_REDIS_OPTIONS}
   * (`commandTimeout`, `retryStrategy`, `enableOfflineQueue`, …) are the client's and are
   * refused: a lock command must never be queued for a node that is down, nor replayed after
   * a reconnect, and the handoff window is checked against the client's own timeouts.
   * @default {}
   */
  readonly redis?: UserRedisOptions;
}

/** {@link LockClientOptions} with defaults applied and validated. */
export interface ResolvedClientOptions {
  readonly nodes: readonly ResolvedNodeSpec[];
  readonly vnodes: number;
  readonly replicas: 1 | 3 | 5;
  readonly keyPrefix: string;
  readonly defaultTtl: number;
  readonly maxTtl: number;
  readonly driftFactor: number;
  readonly retry: ResolvedRetryOptions;
  readonly waitTimeout: number | undefined;
  readonly commandTimeout: number;
  readonly maxKeyLength: number;
  readonly healthCheckInterval: number;
  readonly failureThreshold: number;
  readonly handoffWindow: number;
  readonly restartQuarantine: boolean;
  readonly wakeUp: boolean;
  readonly fair: boolean;
  readonly redis: UserRedisOptions;
}

/**
 * Validates `replicas`: 1, 3 or 5, and no more than the nodes.
 * @throws {@link InvalidArgumentError}
 */
export function checkReplicas(replicas: unknown, nodes: number): 1 | 3 | 5 {
  if (replicas !== 1 && replicas !== 3 && replicas !== 5) {
    throw new InvalidArgumentError(`replicas must be 1, 3 or 5, received ${received(replicas)}`);
  }
  if (nodes < replicas) {
    throw new InvalidArgumentError(
      `replicas is ${replicas} but only ${nodes} node${nodes === 1 ? ' is' : 's are'} given: each key needs ${replicas} distinct nodes`,
    );
  }
  return replicas;
}

/** Longest TTL the client accepts at all (Redis `PX` takes more; 24 h is a sane ceiling). */
export const TTL_CEILING = 86_400_000;

/** The defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY: ResolvedRetryOptions = Object.freeze({
  attempts: 10,
  delay: 50,
  maxDelay: 1_000,
  jitter: 50,
});

/** The defaults of {@link LockClientOptions}. */
export const DEFAULT_CLIENT_OPTIONS = Object.freeze({
  vnodes: DEFAULT_RING_OPTIONS.vnodes,
  replicas: 1 as const,
  keyPrefix: 'shardlock:',
  defaultTtl: 10_000,
  maxTtl: 60_000,
  driftFactor: 0.01,
  retry: DEFAULT_RETRY,
  waitTimeout: undefined,
  commandTimeout: 1_000,
  maxKeyLength: 1_024,
  healthCheckInterval: 1_000,
  failureThreshold: 2,
  handoffWindow: undefined,
  restartQuarantine: true,
  wakeUp: true,
  fair: false,
  redis: Object.freeze({}),
});

const CLIENT_KEYS = new Set([
  'nodes',
  'vnodes',
  'replicas',
  'keyPrefix',
  'defaultTtl',
  'maxTtl',
  'driftFactor',
  'retry',
  'waitTimeout',
  'commandTimeout',
  'maxKeyLength',
  'healthCheckInterval',
  'failureThreshold',
  'handoffWindow',
  'restartQuarantine',
  'wakeUp',
  'fair',
  'redis',
]);
const RETRY_KEYS = new Set(['attempts', 'delay', 'maxDelay', 'jitter']);

/**
 * Applies defaults to client options and validates every field.
 * @throws {@link InvalidArgumentError} naming the option, the range and what was received
 */
export function resolveClientOptions(options: LockClientOptions): ResolvedClientOptions {
  checkKnownKeys(options, CLIENT_KEYS, 'LockClient');
  const d = DEFAULT_CLIENT_OPTIONS;
  const keyPrefix = options.keyPrefix ?? d.keyPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix.length > 256 || !keyPrefix.isWellFormed()) {
    throw new InvalidArgumentError(
      `keyPrefix must be a well-formed string of at most 256 characters, received ${received(keyPrefix)}`,
    );
  }
  const redis = checkRedisOptions(options.redis ?? d.redis, 'redis');
  const driftFactor = checkNumber(options.driftFactor ?? d.driftFactor, 'driftFactor', 0, 0.5);
  const minTtl = minTtlOf(driftFactor);
  const commandTimeout = checkInteger(
    options.commandTimeout ?? d.commandTimeout,
    'commandTimeout',
    1,
    600_000,
    ' ms',
  );
  const healthCheckInterval = checkInteger(
    options.healthCheckInterval ?? d.healthCheckInterval,
    'healthCheckInterval',
    10,
    3_600_000,
    ' ms',
  );
  const failureThreshold = checkInteger(
    options.failureThreshold ?? d.failureThreshold,
    'failureThreshold',
    1,
    1_000,
  );
  const maxTtl = checkInteger(
    options.maxTtl ?? d.maxTtl,
    'maxTtl',
    minTtl,
    TTL_CEILING,
    ' ms (the shortest lease that leaves validity after drift)',
  );
  const defaultTtl = checkInteger(
    options.defaultTtl ?? Math.min(d.defaultTtl, maxTtl),
    'defaultTtl',
    minTtl,
    maxTtl,
    ' ms (maxTtl)',
  );
  const minWindow = Math.ceil(
    quarantineOf({ maxTtl, driftFactor }) +
      detectionLagOf({ healthCheckInterval, failureThreshold, commandTimeout }),
  );
  const nodes = parseNodeSpecs(options.nodes);
  const replicas = checkReplicas(options.replicas ?? d.replicas, nodes.length);
  const wakeUp = checkBoolean(options.wakeUp ?? d.wakeUp, 'wakeUp');
  return Object.freeze({
    nodes,
    vnodes: checkInteger(options.vnodes ?? d.vnodes, 'vnodes', 1, 65_536),
    replicas,
    keyPrefix,
    defaultTtl,
    maxTtl,
    driftFactor,
    retry: resolveRetry(options.retry, d.retry),
    waitTimeout: resolveWaitTimeout(options.waitTimeout, undefined),
    commandTimeout,
    maxKeyLength: checkInteger(
      options.maxKeyLength ?? d.maxKeyLength,
      'maxKeyLength',
      1,
      1_000_000,
    ),
    healthCheckInterval,
    failureThreshold,
    handoffWindow: checkInteger(
      options.handoffWindow ?? Math.max(2 * maxTtl, minWindow),
      'handoffWindow',
      minWindow,
      10 * TTL_CEILING,
      ' ms (at least maxTtl + drift + healthCheckInterval × failureThreshold + commandTimeout)',
    ),
    restartQuarantine: checkBoolean(
      options.restartQuarantine ?? d.restartQuarantine,
      'restartQuarantine',
    ),
    wakeUp,
    fair: checkFair(options.fair ?? d.fair, wakeUp, replicas),
    redis,
  });
}

/**
 * Validates `fair` (of the client or of one call): a boolean, and `true` only where waiters
 * are marked (`wakeUp`) and each key has one owner to keep its line.
 * @throws {@link InvalidArgumentError}
 */
export function checkFair(fair: unknown, wakeUp: boolean, replicas: number): boolean {
  const checked = checkBoolean(fair, 'fair');
  if (checked && !wakeUp) {
    throw new InvalidArgumentError('fair: true needs wakeUp: the line is kept in waiting marks');
  }
  if (checked && replicas !== 1) {
    throw new InvalidArgumentError(
      `fair: true needs replicas: 1 (received ${replicas}): a quorum of replicas keeps no single line`,
    );
  }
  return checked;
}

/**
 * The shortest TTL that leaves any validity: a lease of `ttl` ms is believed for
 * `ttl − ttl × driftFactor − 2` ms, which must be above 0.
 */
export function minTtlOf(driftFactor: number): number {
  return Math.floor(2 / (1 - driftFactor)) + 1;
}

/** The ioredis options of one node's connection: the client's, then the node's own. */
export function redisOptionsOf(
  options: Pick<ResolvedClientOptions, 'redis'>,
  spec: ResolvedNodeSpec,
): RedisOptions {
  return { ...options.redis, ...spec.redis };
}

/**
 * How long a lease granted on a node may still be believed: `maxTtl + drift`. A node seen down
 * (or restarted) keeps its keys quarantined this long.
 */
export function quarantineOf(
  options: Pick<ResolvedClientOptions, 'maxTtl' | 'driftFactor'>,
): number {
  return options.maxTtl + options.maxTtl * options.driftFactor + 2;
}

/** How much later one client may see a node fail or return than another. */
export function detectionLagOf(
  options: Pick<
    ResolvedClientOptions,
    'healthCheckInterval' | 'failureThreshold' | 'commandTimeout'
  >,
): number {
  return options.healthCheckInterval * options.failureThreshold + options.commandTimeout;
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean')
    throw new InvalidArgumentError(`${name} must be a boolean, received ${received(value)}`);
  return value;
}

/** Applies `base` under `retry` and validates it. */
export function resolveRetry(
  retry: RetryOptions | undefined,
  base: ResolvedRetryOptions,
): ResolvedRetryOptions {
  if (retry === undefined) return base;
  checkKnownKeys(retry, RETRY_KEYS, 'retry');
  return Object.freeze({
    attempts: checkInteger(retry.attempts ?? base.attempts, 'retry.attempts', 0, 1_000_000),
    delay: checkNumber(retry.delay ?? base.delay, 'retry.delay', 0, 3_600_000, ' ms'),
    maxDelay: checkNumber(retry.maxDelay ?? base.maxDelay, 'retry.maxDelay', 0, 3_600_000, ' ms'),
    jitter: checkNumber(retry.jitter ?? base.jitter, 'retry.jitter', 0, 3_600_000, ' ms'),
  });
}

/** Validates a wait bound; `undefined` means the `fallback`. */
export function resolveWaitTimeout(
  value: number | undefined,
  fallback: number | undefined,
): number | undefined {
  if (value === undefined) return fallback;
  return checkNumber(value, 'waitTimeout', 0, 2_147_483_647, ' ms');
}
