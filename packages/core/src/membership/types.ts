import type { HashRing } from '@shardlock/ring';

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
  /** How often the pool calls `beat()`, ms; a beat missed by as much means this process stalled. */
  readonly beatEvery: number;
  /**
   * Replicas per key: 1 routes each key to its owner (failover, windows); 3 or 5 to a
   * majority of its replicas, where a node that cannot vote is simply left out.
   */
  readonly replicas?: number;
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
      /** The ring moved keys came from, and the one they are on now. */
      readonly before: HashRing;
      readonly after: HashRing;
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
  /**
   * Quorum mode: raise the member's fence counter to the highest of `from` (every other
   * member) before it votes, then call `memberSynced(nodeId, generation)`.
   */
  | {
      readonly type: 'syncMember';
      readonly nodeId: string;
      /** The incarnation met: once synced, the pool records it as raised on the node. */
      readonly runId: string;
      readonly generation: number;
      readonly from: readonly string[];
    }
  /** Close the node's connection: it left and no handoff needs it any more. */
  | { readonly type: 'retire'; readonly nodeId: string }
  /** Record on the node from when its current incarnation is trusted. */
  | {
      readonly type: 'recordIncarnation';
      readonly nodeId: string;
      readonly runId: string;
      /** ms from now. */
      readonly trustIn: number;
      /** Whether it may have served before this incarnation (see {@link ContactInfo.served}). */
      readonly served: boolean;
    };

/** What a first (or renewed) contact with a node's server found. */
export interface ContactInfo {
  /** The server's `run_id`. */
  readonly runId: string;
  /** A lower bound of how long the server has run, in ms. */
  readonly uptimeMs: number;
  /** An upper bound of how long the server has run, in ms. */
  readonly ageLimitMs: number;
  /**
   * From the node's own record: ms from now until this incarnation is trusted, as a client
   * that met it earlier decided; `undefined` when no client recorded this incarnation.
   */
  readonly recordedTrustIn: number | undefined;
  /**
   * Whether the node may have held leases before this incarnation: what the first client to
   * meet this incarnation recorded, or else whether a cluster record lists its id (true also
   * when some record could not be read).
   */
  readonly served: boolean;
  /**
   * Quorum mode: whether a client recorded this incarnation's fence counter as raised to
   * the other members' (absent: not recorded).
   */
  readonly raised?: boolean;
  /**
   * Whether some client lists this node id now (a cluster record names it, or a record could
   * not be read): only then can another client have failed it over.
   */
  readonly listed: boolean;
}

/** A node's state as `stats()` shows it. */
export type NodeState = 'connecting' | 'up' | 'quarantined' | 'down' | 'failed-over' | 'leaving';

/** One replica set of a key in quorum mode: a grant needs `majority` of `members`. */
export interface ReplicaSet<T> {
  readonly members: readonly T[];
  /** The members that may vote now: met, up, trusted, not refused. */
  readonly voters: readonly T[];
  readonly majority: number;
}
