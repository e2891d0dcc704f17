/**
 * Stable codes of {@link ShardlockError}. A code never changes once released: match on it
 * (or on the class) rather than on the message.
 */
export type ShardlockErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_LOCK_TIMEOUT'
  | 'ERR_LOCK_LOST'
  | 'ERR_LOCK_ABORTED'
  | 'ERR_NODE_UNAVAILABLE'
  | 'ERR_NODE_QUARANTINED'
  | 'ERR_NODE_PERMISSION'
  | 'ERR_EVICTION_POLICY'
  | 'ERR_SETTINGS_MISMATCH'
  | 'ERR_COMMAND_FAILED'
  | 'ERR_CLIENT_CLOSED';

/** Context carried by a {@link ShardlockError}, where it applies. */
export interface ErrorContext {
  /** The lock key the failure concerns. */
  readonly key?: string | undefined;
  /** The node the failure concerns. */
  readonly nodeId?: string | undefined;
  /** How many acquire attempts were made. */
  readonly attempts?: number | undefined;
  /** The error that led to this one. */
  readonly cause?: unknown;
}

/**
 * Base of every error `@shardlock/core` throws or emits. `code` is stable; `key`, `nodeId`
 * and `attempts` say where it happened; `cause` keeps what led to it.
 */
export abstract class ShardlockError extends Error {
  /** Stable, machine-readable reason. */
  abstract readonly code: ShardlockErrorCode;
  /** The lock key the failure concerns, when there is one. */
  readonly key: string | undefined;
  /** The node the failure concerns, when there is one. */
  readonly nodeId: string | undefined;
  /** Acquire attempts made, when the failure ends a wait. */
  readonly attempts: number | undefined;

  /**
   * @param message - what was expected and what happened
   * @param context - where it happened, and its cause
   */
  constructor(message: string, context: ErrorContext = {}) {
    super(message, 'cause' in context ? { cause: context.cause } : undefined);
    this.name = new.target.name;
    this.key = context.key;
    this.nodeId = context.nodeId;
    this.attempts = context.attempts;
  }
}

/** An argument or option is missing, of the wrong type or out of range. Nothing was sent. */
export class InvalidArgumentError extends ShardlockError {
  override readonly code = 'ERR_INVALID_ARGUMENT';
}

/** The lock stayed held by someone else for every attempt, or past `waitTimeout`. */
export class LockTimeoutError extends ShardlockError {
  override readonly code = 'ERR_LOCK_TIMEOUT';
}

/**
 * The lock is no longer ours: it expired, its key was deleted or taken, its node failed,
 * or an extension did not succeed before its validity ended.
 */
export class LockLostError extends ShardlockError {
  override readonly code = 'ERR_LOCK_LOST';
}

/** The caller's `AbortSignal` aborted the wait; anything granted meanwhile was released. */
export class LockAbortedError extends ShardlockError {
  override readonly code = 'ERR_LOCK_ABORTED';
}

/** The node that owns the key cannot be reached now (down, reconnecting, or timed out). */
export class NodeUnavailableError extends ShardlockError {
  override readonly code = 'ERR_NODE_UNAVAILABLE';
}

/**
 * The key's node was seen down or restarted empty, and leases granted on it before may still
 * be believed by their holders: its keys are refused until `retryAfter` ms from now, when
 * they fail over (or the node is trusted again). An acquire whose `waitTimeout` reaches past
 * the quarantine waits for it instead.
 */
export class NodeQuarantinedError extends ShardlockError {
  override readonly code = 'ERR_NODE_QUARANTINED';
  /** How long until the key is served again, in ms. */
  readonly retryAfter: number;

  /**
   * @param message - why the node is quarantined
   * @param retryAfter - ms until the quarantine ends
   * @param context - key, node and cause
   */
  constructor(message: string, retryAfter: number, context: ErrorContext = {}) {
    super(message, context);
    this.retryAfter = retryAfter;
  }
}

/** The client was closed; it sends nothing more. */
export class ClientClosedError extends ShardlockError {
  override readonly code = 'ERR_CLIENT_CLOSED';
}

/**
 * The node's ACL user may not run a command the client needs (see the README for the rule a
 * lock user needs). Found when the client first reaches the node; the client refuses to
 * start (or `addNode` rejects) rather than hang or half-work.
 */
export class NodePermissionError extends ShardlockError {
  override readonly code = 'ERR_NODE_PERMISSION';
  /** The command the user may not run, lower case (`info`, `evalsha`, `pexpire`, …). */
  readonly command: string;

  /**
   * @param message - which node and command
   * @param command - the command refused
   * @param context - node and cause
   */
  constructor(message: string, command: string, context: ErrorContext = {}) {
    super(message, context);
    this.command = command;
  }
}

/**
 * The node may evict keys that hold locks or fences (`maxmemory-policy allkeys-*`): a held
 * lock could vanish and be granted again. The client refuses such a node.
 */
export class EvictionPolicyError extends ShardlockError {
  override readonly code = 'ERR_EVICTION_POLICY';
  /** The node's `maxmemory-policy`. */
  readonly policy: string;

  /**
   * @param message - which node and policy
   * @param policy - the policy found
   * @param context - node and cause
   */
  constructor(message: string, policy: string, context: ErrorContext = {}) {
    super(message, context);
    this.policy = policy;
  }
}

/**
 * A setting every client of a cluster must share (`maxTtl`, `driftFactor`, `vnodes`, a node's
 * weight, which id names which server) differs from the one recorded on the nodes. Two
 * clients that disagree would quarantine for different lengths or place keys on different
 * nodes, and grant a key twice: the client refuses to start.
 */
export class SettingsMismatchError extends ShardlockError {
  override readonly code = 'ERR_SETTINGS_MISMATCH';
  /** The setting that differs, as an option name (`maxTtl`, `nodes[2].weight`, …). */
  readonly setting: string;

  /**
   * @param message - the setting, the recorded value and this client's
   * @param setting - the option name
   * @param context - node and cause
   */
  constructor(message: string, setting: string, context: ErrorContext = {}) {
    super(message, context);
    this.setting = setting;
  }
}

/**
 * The node refused one lock operation (for example, the lock's Redis key holds a value of
 * another type, or the server is out of memory). Only that key fails; the other operations
 * sent with it in the same batch are unaffected.
 */
export class CommandError extends ShardlockError {
  override readonly code = 'ERR_COMMAND_FAILED';
}

/** What was thrown, as an `Error`: the client throws only errors, anything else is wrapped. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
