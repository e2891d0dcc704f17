import type { ShardlockError } from './errors.js';

/** Why a lock stopped being ours. */
export type LockLostReason =
  /** An extend or release found another token, or no key: it expired or was deleted. */
  | 'not-owner'
  /** The connection to the lock's node closed: a crash or restart takes its leases along. */
  | 'node-lost'
  /** `withLock` could not extend before the lease's validity ran out. */
  | 'expired';

/** Payload of the `lockLost` event. */
export interface LockLostEvent {
  readonly key: string;
  readonly nodeId: string;
  readonly fence: bigint;
  readonly reason: LockLostReason;
}

/** Payload of the `nodeError` event. */
export interface NodeErrorEvent {
  readonly nodeId: string;
  readonly error: Error;
}

/** Payload of the `nodeUp` and `nodeDown` events. */
export interface NodeStateEvent {
  readonly nodeId: string;
  /** Times the node's connection was lost since the client started. */
  readonly generation: number;
}

/**
 * Events of a `LockClient`, for `client.on(name, listener)`. None is named `error`, so an
 * unobserved node failure never crashes the process; every failure is still emitted.
 */
export interface LockClientEvents {
  /** A node's connection or a command on it failed; the error keeps its cause. */
  nodeError: [NodeErrorEvent];
  /** A node's connection became ready. */
  nodeUp: [NodeStateEvent];
  /** A node's connection was lost; locks held on it are lost with it. */
  nodeDown: [NodeStateEvent];
  /** A lock this client held is no longer ours. */
  lockLost: [LockLostEvent];
  /** A background step (a release after an abort, an auto-extend) failed. */
  backgroundError: [ShardlockError];
}
