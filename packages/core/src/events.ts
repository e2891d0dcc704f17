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
  /** Times the node was marked down since the client started. */
  readonly generation: number;
  /** Why it was marked down: its connection closed, or health checks failed. */
  readonly reason?: 'connection' | 'health';
}

/** Payload of the `rebalance` event. */
export interface RebalanceEvent {
  /** The new serving ring's epoch. */
  readonly epoch: number;
  /**
   * `add` / `remove` (by the caller), `failover` (down past quarantine), `rejoin` (back, or
   * met young: its keys also win on their successors for a window), `start` (the cluster's
   * record shows a change other clients may still be applying).
   */
  readonly reason: 'add' | 'remove' | 'failover' | 'rejoin' | 'start';
  readonly nodeId: string;
  /** Share of keys whose owner changed, from 0 to 1 (sampled over 4,096 keys when first read). */
  readonly movedShare: number;
}

/** Payload of the `nodeQuarantined` event. */
export interface NodeQuarantinedEvent {
  readonly nodeId: string;
  /** ms from now until its keys are served again (or fail over). */
  readonly until: number;
}

/** Payload of the `forceRelease` event. */
export interface ForceReleaseEvent {
  readonly key: string;
  /** The nodes the lease was deleted on. */
  readonly nodeIds: readonly string[];
  /** The fingerprints of the tokens deleted (one, unless replicas held different ones). */
  readonly fingerprints: readonly string[];
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
  /** A node's server restarted (its run_id changed): it may have lost its leases. */
  nodeRestarted: [{ readonly nodeId: string }];
  /** A node's keys are refused until leases granted on it can no longer be believed. */
  nodeQuarantined: [NodeQuarantinedEvent];
  /** The serving ring changed; moved keys win on old and new owners for the handoff window. */
  rebalance: [RebalanceEvent];
  /** The handoff window of a change ended: moved keys use only their new owner. */
  handoffEnd: [{ readonly epoch: number }];
  /** A lock this client held is no longer ours. */
  lockLost: [LockLostEvent];
  /** A background step (a release after an abort, an auto-extend) failed. */
  backgroundError: [ShardlockError];
  /**
   * `forceRelease()` deleted a lease, whoever held it: its holder learns at its next extend
   * (`LockLostError`) and may be working under it until then.
   */
  forceRelease: [ForceReleaseEvent];
}

/** How the pool and engine tell their client about events. */
export type Emit = <E extends keyof LockClientEvents>(
  event: E,
  ...args: LockClientEvents[E]
) => void;
