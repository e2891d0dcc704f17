/** The timing rules membership follows, all derived from the client's options. */
export interface MembershipTiming {
  /** `maxTtl + drift`: how long a lease granted on a node may still be believed. */
  readonly quarantine: number;
  /** How long a moved key keeps winning on its old owners too. */
  readonly handoffWindow: number;
  /** How much later one client may see a node fail or return than another. */
  readonly detectionLag: number;
  /** Treat a young server that may have served before as possibly restarted empty. */
  readonly restartQuarantine: boolean;
  /** How long to wait before trying a failed fence sync again, in ms. */
  readonly syncRetry: number;
}

/** Why the serving ring changed. */
export type RebalanceReason = 'add' | 'remove' | 'failover' | 'rejoin' | 'start';

/**
 * What membership asks its pool to do or say. Membership itself never does I/O and keeps no
 * timers: it answers with decisions, and the pool acts on them.
 */
export type Decision =
  /** Emit `nodeQuarantined`: the node's keys are refused until `until`. */
  | { readonly type: 'quarantined'; readonly nodeId: string; readonly until: number }
  /** Emit `nodeRestarted`: the server's `run_id` changed. */
  | { readonly type: 'restarted'; readonly nodeId: string }
  /** Emit `rebalance`: the serving ring changed. */
  | {
      readonly type: 'rebalance';
      readonly epoch: number;
      readonly reason: RebalanceReason;
      readonly nodeId: string;
      readonly movedShare: number;
    }
  /**
   * Raise the fence counter of every node in `to` to the highest of `from`, then call
   * `synced(epoch)` (or `syncFailed`): only then may the handoff end (docs/safety.md, fences).
   */
  | {
      readonly type: 'syncFences';
      readonly epoch: number;
      readonly from: readonly string[];
      readonly to: readonly string[];
    }
  /** Emit `handoffEnd`. */
  | { readonly type: 'handoffEnd'; readonly epoch: number }
  /** Close the node's connection: it left and no handoff needs it any more. */
  | { readonly type: 'retire'; readonly nodeId: string }
  /** Record on the node from when its current incarnation is trusted. */
  | {
      readonly type: 'recordIncarnation';
      readonly nodeId: string;
      readonly runId: string;
      /** ms from now. */
      readonly trustIn: number;
    };

/** What a first (or renewed) contact with a node's server found. */
export interface ContactInfo {
  /** The server's `run_id`. */
  readonly runId: string;
  /** A lower bound of how long the server has run, in ms. */
  readonly uptimeMs: number;
  /**
   * From the node's own record: ms from now until this incarnation is trusted, as a client
   * that met it earlier decided; `undefined` when no client recorded this incarnation.
   */
  readonly recordedTrustIn: number | undefined;
  /**
   * Whether a cluster record lists this node id, so that it may have held leases before; true
   * also when some record could not be read.
   */
  readonly served: boolean;
}

/** A node's state as `stats()` shows it. */
export type NodeState = 'connecting' | 'up' | 'quarantined' | 'down' | 'failed-over' | 'leaving';
