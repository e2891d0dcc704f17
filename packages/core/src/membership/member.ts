import { NodeQuarantinedError } from '../errors.js';

/** One member as membership sees it; `T` is the pool's handle of its connection. */
export interface Member<T> {
  readonly id: string;
  readonly weight: number;
  /** `undefined` for a node known only from the cluster's record (removed by another client). */
  readonly handle: T | undefined;
  /** The route of a key it owns outside a handoff: made once, not per lock. */
  readonly alone: readonly T[];
  /** Its server's incarnation has been read since this client met it. */
  known: boolean;
  runId: string | undefined;
  /** When it was last seen down; `undefined` while up. */
  downSince: number | undefined;
  /** Its keys are refused until then: its server may have restarted empty. */
  trustAt: number;
  /** Down for the quarantine: absent from every view's ring, its keys on successors. */
  failedOver: boolean;
  /** Removed: absent from the current view, still in the views of open handoffs. */
  leaving: boolean;
  /** When this client added it (`join`); `undefined` for a member it started with. */
  joinedAt: number | undefined;
  /** Why this client may not use it now (a missing permission, a record that disagrees). */
  refusal: Error | undefined;
  /**
   * Quorum mode: its fence counter may have been lost (an empty restart) and is not yet
   * raised to the others'; it does not vote until then. Counts each such contact.
   */
  fenceSync: { pending: boolean; generation: number };
  /** Quorum mode: the `run_id` whose counter this client raised (`syncMember`). */
  raisedRun: string | undefined;
}

/** A member not met yet. */
export function member<T>(id: string, weight: number, handle: T | undefined): Member<T> {
  return {
    id,
    weight,
    handle,
    alone: handle === undefined ? [] : [handle],
    known: false,
    runId: undefined,
    downSince: undefined,
    trustAt: Number.NEGATIVE_INFINITY,
    failedOver: false,
    leaving: false,
    joinedAt: undefined,
    refusal: undefined,
    fenceSync: { pending: false, generation: 0 },
    raisedRun: undefined,
  };
}

/**
 * Thrown by `Membership.route` for a key whose node's server has not been met yet: nothing
 * may be routed to a node whose incarnation is unknown (docs/safety.md, "late clients"). The
 * pool waits for the contact and routes again; it never leaves the client.
 */
export class ContactPending extends Error {
  /** The node waited for. */
  readonly nodeId: string;

  /** @param nodeId - the node not met yet */
  constructor(nodeId: string) {
    super(`node ${JSON.stringify(nodeId)} has not been reached yet`);
    this.nodeId = nodeId;
  }
}

/**
 * Thrown by `Membership.route` when this process has not run for longer than its heartbeat
 * allows (a GC pause, SIGSTOP, a starved CPU): what it knows of the nodes is stale. The pool
 * calls `beat()` and routes again; it never leaves the client.
 */
export class Stalled extends Error {}

/** The error for a key whose node may still hold leases someone believes. */
export function quarantined(
  id: string,
  key: string,
  why: string,
  left: number,
): NodeQuarantinedError {
  return new NodeQuarantinedError(
    `node ${JSON.stringify(id)} ${why}: its keys are quarantined until leases granted on it can no longer be believed`,
    Math.max(0, Math.ceil(left)),
    { key, nodeId: id },
  );
}
