import type { HashRing } from '@shardlock/ring';
import { NodeQuarantinedError, NodeUnavailableError } from '../errors.js';
import type {
  ContactInfo,
  Decision,
  MembershipTiming,
  NodeState,
  RebalanceReason,
} from './types.js';
import { movedShare, ringOf, viewOf, type View } from './views.js';

/** One member as membership sees it; `T` is the pool's handle of its connection. */
interface Member<T> {
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
}

/** A view some other client may still be using, honoured until `until` and a fence sync. */
interface Handoff {
  readonly view: View;
  ring: HashRing;
  readonly epoch: number;
  readonly until: number;
  /** While a fence sync runs, or when it may be tried again. */
  syncing: boolean;
  retryAt: number;
}

/**
 * Thrown by {@link Membership.route} for a key whose node's server has not been met yet:
 * nothing may be routed to a node whose incarnation is unknown (docs/safety.md, "late
 * clients"). The engine waits for the contact and routes again; it never leaves the client.
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

const NONE: readonly Decision[] = Object.freeze([]);

/**
 * Which nodes must grant which keys, and when: a pure state machine. Node ids and `now` go
 * in, routes and decisions come out; it keeps no timer and does no I/O, so every transition
 * is tested with a fake clock (docs/safety.md has the rules it follows).
 */
export class Membership<T> {
  readonly #timing: MembershipTiming;
  readonly #vnodes: number;
  readonly #members = new Map<string, Member<T>>();
  #current: View = viewOf(new Map());
  #ring: HashRing;
  #handoffs: Handoff[] = [];
  #epoch = 0;

  /**
   * @param timing - quarantine, handoff window and detection lag
   * @param vnodes - virtual nodes per unit of weight
   * @param nodes - the client's first nodes: one view, no handoff
   */
  constructor(
    timing: MembershipTiming,
    vnodes: number,
    nodes: readonly { id: string; weight: number; handle: T }[],
  ) {
    this.#timing = timing;
    this.#vnodes = vnodes;
    for (const { id, weight, handle } of nodes) this.#members.set(id, member(id, weight, handle));
    this.#current = viewOf(new Map(nodes.map((n) => [n.id, n.weight])));
    this.#ring = ringOf(this.#current, this.#failedOver(), vnodes);
  }

  /** Rises with every change of any view's ring. */
  get epoch(): number {
    return this.#epoch;
  }

  /** The ring this client places keys on now. */
  get ring(): HashRing {
    return this.#ring;
  }

  /** Ids of every member with a connection, leaving ones included. */
  ids(): string[] {
    return [...this.#members.values()].filter((m) => m.handle !== undefined).map((m) => m.id);
  }

  /** Whether `id` is a member (with a connection) that is not leaving. */
  has(id: string): boolean {
    const m = this.#members.get(id);
    return m?.handle !== undefined && !m.leaving;
  }

  /** Ids of the members in the current view (not leaving), with their weights. */
  get weights(): ReadonlyMap<string, number> {
    return this.#current.members;
  }

  /** The state `stats()` reports for a member. */
  stateOf(id: string, now: number): NodeState | undefined {
    const m = this.#members.get(id);
    if (m === undefined) return undefined;
    if (m.leaving) return 'leaving';
    if (m.failedOver) return 'failed-over';
    if (m.downSince !== undefined) return 'down';
    if (!m.known) return 'connecting';
    return m.trustAt > now ? 'quarantined' : 'up';
  }

  /** ms until a member's keys are served again; 0 when they are. */
  quarantinedFor(id: string, now: number): number {
    const m = this.#members.get(id);
    if (m === undefined) return 0;
    return Math.max(0, Math.ceil(this.#refusedUntil(m) - now));
  }

  /**
   * The nodes that must all grant `key` now, old owners first and the current owner last, so
   * that the last grant can carry the highest fence. Outside a handoff: one cached array.
   * @throws {@link NodeQuarantinedError} when a node on the route is down or not yet trusted
   * @throws {@link NodeUnavailableError} when no node serves
   * @throws {@link ContactPending} when a node on the route has not been met yet
   */
  route(key: string, now: number): readonly T[] {
    if (this.#ring.size === 0) {
      throw new NodeUnavailableError('no node is serving: every node is removed or failed over', {
        key,
      });
    }
    const owner = this.#members.get(this.#ring.owner(key))!;
    this.#check(owner, key, now);
    if (this.#handoffs.length === 0) return owner.alone;
    let nodes: T[] | undefined;
    for (const handoff of this.#handoffs) {
      if (handoff.ring.size === 0) continue;
      const old = this.#members.get(handoff.ring.owner(key));
      if (old === undefined || old === owner || nodes?.includes(old.handle!) === true) continue;
      this.#check(old, key, now, handoff.until);
      (nodes ??= []).push(old.handle!);
    }
    if (nodes === undefined) return owner.alone;
    nodes.push(owner.handle!);
    return nodes;
  }

  #check(m: Member<T>, key: string, now: number, ghostUntil = 0): void {
    if (m.handle === undefined) {
      // Removed by another client, known only from the record: some client may still
      // grant its keys there, and this one cannot reach it.
      throw quarantined(m.id, key, 'was removed by another client', ghostUntil - now);
    }
    if (!m.known && m.downSince === undefined) throw new ContactPending(m.id);
    const until = this.#refusedUntil(m);
    if (m.downSince === undefined && now >= until) return;
    const why = m.downSince === undefined ? 'may have restarted empty' : 'is down';
    throw quarantined(m.id, key, why, until - now);
  }

  #refusedUntil(m: Member<T>): number {
    return m.downSince === undefined
      ? m.trustAt
      : Math.max(m.trustAt, m.downSince + this.#timing.quarantine);
  }

  /** The node's connection closed or its health checks failed. */
  lost(id: string, now: number): readonly Decision[] {
    const m = this.#members.get(id);
    if (m === undefined || m.downSince !== undefined) return NONE;
    m.downSince = now;
    if (m.failedOver) return NONE;
    return [{ type: 'quarantined', nodeId: id, until: now + this.#timing.quarantine }];
  }

  /** The node's server answered: first contact, or again after an outage or restart. */
  contact(id: string, info: ContactInfo, now: number): readonly Decision[] {
    const m = this.#members.get(id);
    if (m?.handle === undefined) return NONE;
    const q = this.#timing.quarantine;
    const lag = this.#timing.detectionLag;
    const decisions: Decision[] = [];
    const wasDown = m.downSince !== undefined;
    const downFor = wasDown ? now - m.downSince! : 0;
    const firstContact = !m.known;
    if (m.known && m.runId !== info.runId) {
      decisions.push({ type: 'restarted', nodeId: id });
      // Leases on it died with the old process, at the latest when it was seen down.
      m.trustAt = Math.max(m.trustAt, (m.downSince ?? now) + q);
    }
    if (info.recordedTrustIn !== undefined) {
      m.trustAt = Math.max(m.trustAt, now + info.recordedTrustIn);
    } else if (firstContact && this.#timing.restartQuarantine && info.served && info.uptimeMs < q) {
      // Met for the first time, young, and listed as a member: it may have lost leases.
      m.trustAt = Math.max(m.trustAt, now + q - info.uptimeMs);
    }
    // Another client, which saw it down sooner (or saw it die before this client met it),
    // may have failed its keys over and granted them on successors: win there too.
    const othersMayHaveFailedOver = wasDown
      ? downFor + 2 * lag >= q
      : firstContact && this.#timing.restartQuarantine && info.served && info.uptimeMs < q + lag;
    m.known = true;
    m.runId = info.runId;
    m.downSince = undefined;
    if (m.trustAt > now) decisions.push({ type: 'quarantined', nodeId: id, until: m.trustAt });
    decisions.push({
      type: 'recordIncarnation',
      nodeId: id,
      runId: info.runId,
      trustIn: Math.max(0, m.trustAt - now),
    });
    if (othersMayHaveFailedOver && !m.failedOver && !m.leaving && this.#current.members.has(id)) {
      const from = viewOf(this.#current.members, new Set([id]));
      decisions.push(...this.#openHandoff(from, Math.max(now, m.trustAt), 'rejoin', id));
    }
    return decisions;
  }

  /** Raises a member's trust time to what another client recorded after this one's contact. */
  trustNoEarlierThan(id: string, at: number): readonly Decision[] {
    const m = this.#members.get(id);
    if (m === undefined || at <= m.trustAt) return NONE;
    m.trustAt = at;
    return [{ type: 'quarantined', nodeId: id, until: at }];
  }

  /**
   * Adds a node, known and trusted, to the current view; keys that move to it keep winning on
   * their old owners for a handoff window.
   */
  join(id: string, weight: number, handle: T, runId: string, now: number): readonly Decision[] {
    const m = member(id, weight, handle);
    m.known = true;
    m.runId = runId;
    this.#members.set(id, m);
    const before = this.#current;
    this.#current = viewOf(new Map([...before.members, [id, weight]]));
    return this.#openHandoff(before, now, 'add', id);
  }

  /** Takes a member out of the current view; it stays an old owner for a handoff window. */
  leave(id: string, now: number): readonly Decision[] {
    const m = this.#members.get(id);
    if (m === undefined || m.leaving) return NONE;
    m.leaving = true;
    const before = this.#current;
    const members = new Map(before.members);
    members.delete(id);
    this.#current = viewOf(members);
    return this.#openHandoff(before, now, 'remove', id);
  }

  /**
   * What the cluster's record says changed recently, before this client started: nodes added
   * less than a handoff window ago (`added`: ms of window left), and nodes removed (`removed`:
   * weight and ms left), which other clients may still use. The client honours them as if it
   * had made the change itself (docs/safety.md, "late clients").
   */
  recentChanges(
    added: ReadonlyMap<string, number>,
    removed: ReadonlyMap<string, { weight: number; left: number }>,
    now: number,
  ): readonly Decision[] {
    const decisions: Decision[] = [];
    for (const [id, left] of added) {
      if (!this.#current.members.has(id) || left <= 0) continue;
      const members = new Map(this.#current.members);
      members.delete(id);
      decisions.push(
        ...this.#openHandoff(viewOf(members), now + left - this.#timing.handoffWindow, 'start', id),
      );
    }
    for (const [id, { weight, left }] of removed) {
      if (this.#members.has(id) || left <= 0) continue;
      const ghost: Member<T> = { ...member<T>(id, weight, undefined), known: true, leaving: true };
      this.#members.set(id, ghost);
      const members = new Map([...this.#current.members, [id, weight]]);
      decisions.push(
        ...this.#openHandoff(viewOf(members), now + left - this.#timing.handoffWindow, 'start', id),
      );
    }
    return decisions;
  }

  /** The earliest time at which {@link advance} has something to do; Infinity if none. */
  nextWake(): number {
    let wake = Number.POSITIVE_INFINITY;
    for (const m of this.#members.values()) {
      if (m.downSince !== undefined && !m.failedOver) {
        wake = Math.min(wake, m.downSince + this.#timing.quarantine);
      } else if (m.failedOver && m.downSince === undefined && m.known) {
        wake = Math.min(wake, m.trustAt);
      }
    }
    for (const h of this.#handoffs)
      if (!h.syncing) wake = Math.min(wake, Math.max(h.until, h.retryAt));
    return wake;
  }

  /** Moves time on: failovers, rejoins, and handoffs whose window has passed. */
  advance(now: number): readonly Decision[] {
    const decisions: Decision[] = [];
    let changed: { reason: RebalanceReason; id: string }[] | undefined;
    for (const m of this.#members.values()) {
      if (m.handle === undefined) continue;
      if (
        !m.failedOver &&
        m.downSince !== undefined &&
        now >= m.downSince + this.#timing.quarantine
      ) {
        m.failedOver = true;
        (changed ??= []).push({ reason: 'failover', id: m.id });
      } else if (m.failedOver && m.downSince === undefined && m.known && now >= m.trustAt) {
        m.failedOver = false;
        (changed ??= []).push({ reason: 'rejoin', id: m.id });
      }
    }
    for (const { reason, id } of changed ?? []) {
      if (reason === 'failover') {
        // No handoff: its keys had no holder anyone still believes (the quarantine passed).
        const before = this.#ring;
        this.#rebuild();
        decisions.push(this.#rebalance(reason, id, before));
      } else if (this.#current.members.has(id)) {
        // Back: its keys return to it, handed off from the successors that served them.
        const from = viewOf(this.#current.members, new Set([id]));
        decisions.push(...this.#openHandoff(from, now, 'rejoin', id));
      } else {
        this.#rebuild();
      }
    }
    for (const h of this.#handoffs) {
      if (h.syncing || now < h.until || now < h.retryAt) continue;
      h.syncing = true;
      decisions.push({
        type: 'syncFences',
        epoch: h.epoch,
        from: h.ring.nodes
          .map((n) => n.id)
          .filter((id) => this.#members.get(id)?.handle !== undefined),
        to: this.#ring.nodes.map((n) => n.id),
      });
    }
    return decisions;
  }

  /** The fence sync of a handoff succeeded: it ends. */
  synced(epoch: number): readonly Decision[] {
    const index = this.#handoffs.findIndex((h) => h.epoch === epoch);
    if (index < 0) return NONE;
    this.#handoffs.splice(index, 1);
    const decisions: Decision[] = [{ type: 'handoffEnd', epoch }];
    for (const m of [...this.#members.values()]) {
      if (!m.leaving || this.#handoffs.some((h) => h.view.members.has(m.id))) continue;
      this.#members.delete(m.id);
      if (m.handle !== undefined) decisions.push({ type: 'retire', nodeId: m.id });
    }
    return decisions;
  }

  /** The fence sync of a handoff failed (a node did not answer): it is tried again later. */
  syncFailed(epoch: number, now: number): void {
    const handoff = this.#handoffs.find((h) => h.epoch === epoch);
    if (handoff === undefined) return;
    handoff.syncing = false;
    handoff.retryAt = now + this.#timing.syncRetry;
  }

  #openHandoff(from: View, start: number, reason: RebalanceReason, id: string): Decision[] {
    this.#rebuild();
    const epoch = this.#epoch;
    const ring = ringOf(from, this.#failedOver(), this.#vnodes);
    this.#handoffs.push({
      view: from,
      ring,
      epoch,
      until: start + this.#timing.handoffWindow,
      syncing: false,
      retryAt: 0,
    });
    return [this.#rebalance(reason, id, ring)];
  }

  #rebalance(reason: RebalanceReason, nodeId: string, before: HashRing): Decision {
    return {
      type: 'rebalance',
      epoch: this.#epoch,
      reason,
      nodeId,
      movedShare: movedShare(before, this.#ring),
    };
  }

  /** Builds every view's ring anew (a member failed over or came back, or a view changed). */
  #rebuild(): void {
    const failedOver = this.#failedOver();
    this.#ring = ringOf(this.#current, failedOver, this.#vnodes);
    for (const h of this.#handoffs) h.ring = ringOf(h.view, failedOver, this.#vnodes);
    this.#epoch++;
  }

  #failedOver(): Set<string> {
    const ids = new Set<string>();
    for (const m of this.#members.values()) if (m.failedOver) ids.add(m.id);
    return ids;
  }
}

function member<T>(id: string, weight: number, handle: T | undefined): Member<T> {
  return {
    id,
    weight,
    handle,
    alone: handle === undefined ? [] : [handle],
    known: false,
    runId: undefined,
    downSince: undefined,
    trustAt: 0,
    failedOver: false,
    leaving: false,
  };
}

function quarantined(id: string, key: string, why: string, left: number): NodeQuarantinedError {
  return new NodeQuarantinedError(
    `node ${JSON.stringify(id)} ${why}: its keys are quarantined until leases granted on it can no longer be believed`,
    Math.max(0, Math.ceil(left)),
    { key, nodeId: id },
  );
}
