import { HashRing } from '@shardlock/ring';
import { NodeQuarantinedError, NodeUnavailableError } from './errors.js';
import type { RedisNode, ServerInfo } from './node.js';

/** One node as membership sees it. */
export interface Member {
  readonly node: RedisNode;
  readonly weight: number;
  /** The route of a key it owns outside a handoff: made once, not per lock. */
  readonly alone: readonly RedisNode[];
  /** Monotonic ms when it was last seen down; `undefined` while up. */
  downSince: number | undefined;
  /** Its keys are refused until then (monotonic ms). */
  quarantineUntil: number;
  /** Down for longer than the quarantine: out of the serving ring, keys on their successors. */
  failedOver: boolean;
  /** Removed by `removeNode()`, still an old owner until the handoff window ends. */
  leaving: boolean;
  /** The server's run_id when last seen up. */
  runId: string | undefined;
  /** Pending failover or rejoin. */
  timer: NodeJS.Timeout | undefined;
}

/** A previous serving ring whose keys still need their old owners until `until`. */
interface Handoff {
  readonly ring: HashRing;
  readonly epoch: number;
  readonly until: number;
}

/** Why the serving ring changed. */
export type RebalanceReason = 'add' | 'remove' | 'failover' | 'rejoin';

/** What membership tells its client. */
export interface MembershipEvents {
  rebalance(epoch: number, reason: RebalanceReason, nodeId: string, movedShare: number): void;
  handoffEnd(epoch: number): void;
  restarted(nodeId: string): void;
  quarantined(nodeId: string, until: number): void;
  retire(member: Member): void;
}

/** The timing rules, all derived from `maxTtl`. */
export interface MembershipTiming {
  /** maxTtl + drift: how long a lease granted on a node may still be believed. */
  readonly quarantine: number;
  readonly handoffWindow: number;
  readonly restartQuarantine: boolean;
  /** How much later one client may see a node down than another (health checks' reach). */
  readonly detectionLag: number;
}

const SAMPLE_KEYS = Array.from({ length: 4096 }, (_, i) => `probe:${i}`);

/**
 * Which nodes serve which keys, and when (SAFETY.md): a node seen down keeps its keys
 * quarantined until no lease on it can still be believed, then they fail over; a node that
 * restarted is quarantined the same way; every change makes a new serving ring (a new epoch)
 * and, for a handoff window, a moved key must also win on its old owner.
 */
export class Membership {
  readonly #members = new Map<string, Member>();
  readonly #timing: MembershipTiming;
  readonly #events: MembershipEvents;
  readonly #vnodes: number;
  #serving: HashRing;
  #handoffs: Handoff[] = [];
  #epoch = 0;

  constructor(timing: MembershipTiming, vnodes: number, events: MembershipEvents) {
    this.#timing = timing;
    this.#events = events;
    this.#vnodes = vnodes;
    this.#serving = new HashRing([], { vnodes });
  }

  /** The serving ring's epoch: it rises with every change. */
  get epoch(): number {
    return this.#epoch;
  }

  /** The serving ring. */
  get ring(): HashRing {
    return this.#serving;
  }

  /** Every member, leaving ones included. */
  get members(): ReadonlyMap<string, Member> {
    return this.#members;
  }

  /** The client's first nodes: members at once, one ring, no handoff. */
  init(nodes: readonly { node: RedisNode; weight: number }[]): void {
    for (const { node, weight } of nodes) this.#members.set(node.id, newMember(node, weight));
    this.#rebuild(undefined, '');
  }

  /** Adds a member to the serving ring; with `handoff`, moved keys keep their old owner a while. */
  join(node: RedisNode, weight: number, handoff: boolean): void {
    this.#members.set(node.id, newMember(node, weight));
    this.#rebuild(handoff ? 'add' : undefined, node.id);
  }

  /** Takes a member out of the serving ring; it stays an old owner for the handoff window. */
  leave(id: string): void {
    const member = this.#members.get(id);
    if (member === undefined || member.leaving) return;
    member.leaving = true;
    clearTimeout(member.timer);
    this.#rebuild('remove', id);
  }

  /**
   * The nodes that must all grant `key` now: its owner, then (during a handoff) old owners
   * that still live. Old owners come first, so the new owner's grant can carry their fence.
   * @throws {@link NodeQuarantinedError} when an owner is quarantined or down
   */
  route(key: string, now: number): readonly RedisNode[] {
    if (this.#serving.size === 0) {
      throw new NodeUnavailableError(
        'no node is serving: every node has been removed or failed over',
        { key },
      );
    }
    const owner = this.#members.get(this.#serving.owner(key))!;
    this.#check(owner, key, now);
    if (this.#handoffs.length === 0) return owner.alone;
    return this.#routeDuringHandoff(key, owner, now);
  }

  #routeDuringHandoff(key: string, owner: Member, now: number): RedisNode[] {
    this.#handoffs = this.#handoffs.filter((h) => h.until > now);
    const nodes: RedisNode[] = [];
    for (const handoff of this.#handoffs) {
      const id = handoff.ring.owner(key);
      if (id === owner.node.id || nodes.some((n) => n.id === id)) continue;
      const old = this.#members.get(id);
      // An old owner down past the quarantine holds no lease anyone still believes.
      if (old === undefined || old.failedOver) continue;
      if (old.downSince !== undefined && now >= old.downSince + this.#timing.quarantine) continue;
      this.#check(old, key, now);
      nodes.push(old.node);
    }
    nodes.push(owner.node);
    return nodes;
  }

  #check(member: Member, key: string, now: number): void {
    const until =
      member.downSince === undefined
        ? member.quarantineUntil
        : Math.max(member.quarantineUntil, member.downSince + this.#timing.quarantine);
    if (member.downSince === undefined && now >= until) return;
    const id = member.node.id;
    const why = member.downSince === undefined ? 'may have restarted empty' : 'is down';
    throw new NodeQuarantinedError(
      `node ${JSON.stringify(id)} ${why}: its keys are quarantined until leases granted on it can no longer be believed`,
      Math.max(0, Math.ceil(until - now)),
      { key, nodeId: id },
    );
  }

  /** A member's connection or health checks failed. */
  down(node: RedisNode, now: number): void {
    const member = this.#members.get(node.id);
    if (member === undefined || member.downSince !== undefined) return;
    member.downSince = now;
    clearTimeout(member.timer);
    if (member.leaving || member.failedOver) return;
    this.#events.quarantined(node.id, now + this.#timing.quarantine);
    member.timer = setTimeout(() => {
      if (member.downSince === undefined || member.leaving) return;
      member.failedOver = true;
      this.#rebuild('failover', node.id);
    }, this.#timing.quarantine);
    member.timer.unref();
  }

  /** A member answered again (or for the first time), with its server's run_id and uptime. */
  up(node: RedisNode, info: ServerInfo, now: number): void {
    const member = this.#members.get(node.id);
    if (member === undefined) return;
    const restarted = member.runId !== undefined && member.runId !== info.runId;
    const unknownStart = member.runId === undefined && this.#timing.restartQuarantine;
    if (restarted) {
      this.#events.restarted(node.id);
      // Leases on it died with the old process, at the latest when it was seen down.
      member.quarantineUntil = Math.max(
        member.quarantineUntil,
        (member.downSince ?? now) + this.#timing.quarantine,
      );
    } else if (unknownStart && info.uptimeMs < this.#timing.quarantine) {
      // Never seen before, and started recently: it may have lost leases another client holds.
      member.quarantineUntil = Math.max(
        member.quarantineUntil,
        now + this.#timing.quarantine - info.uptimeMs,
      );
    }
    const wasDown = member.downSince !== undefined;
    const downFor = wasDown ? now - member.downSince! : 0;
    member.runId = info.runId;
    member.downSince = undefined;
    clearTimeout(member.timer);
    member.timer = undefined;
    if (member.quarantineUntil > now) this.#events.quarantined(node.id, member.quarantineUntil);
    const lag = this.#timing.detectionLag;
    // Another client, which saw it down sooner (or saw it die before this client met it), may
    // have failed its keys over and granted them on successors: win there too for a handoff
    // window, as a client that rejoins it does.
    const othersMayHaveFailedOver = wasDown
      ? downFor + 2 * lag >= this.#timing.quarantine
      : unknownStart && info.uptimeMs < this.#timing.quarantine + lag;
    if (othersMayHaveFailedOver && !member.failedOver && !member.leaving) {
      this.#handoffFromSuccessors(node.id);
    }
    if (!member.failedOver || member.leaving) return;
    // Back after a failover: take its keys back once trusted, handing them off from successors.
    member.timer = setTimeout(
      () => {
        if (member.downSince !== undefined || member.leaving) return;
        member.failedOver = false;
        this.#rebuild('rejoin', node.id);
      },
      Math.max(0, member.quarantineUntil - now),
    );
    member.timer.unref();
  }

  /** Ends every timer. */
  close(): void {
    for (const member of this.#members.values()) clearTimeout(member.timer);
  }

  #rebuild(reason: RebalanceReason | undefined, nodeId: string): void {
    const previous = this.#serving;
    const serving = [...this.#members.values()]
      .filter((m) => !m.leaving && !m.failedOver)
      .map((m) => ({ id: m.node.id, weight: m.weight }));
    this.#serving = new HashRing(serving, { vnodes: this.#vnodes });
    this.#epoch++;
    if (reason !== undefined) this.#startHandoff(previous, reason, nodeId);
  }

  #handoffFromSuccessors(nodeId: string): void {
    if (this.#serving.size < 2 || !this.#serving.has(nodeId)) return;
    this.#epoch++;
    this.#startHandoff(this.#serving.remove(nodeId), 'rejoin', nodeId);
  }

  #startHandoff(previous: HashRing, reason: RebalanceReason, nodeId: string): void {
    const until = performance.now() + this.#timing.handoffWindow;
    const epoch = this.#epoch;
    this.#handoffs.push({ ring: previous, epoch, until });
    const timer = setTimeout(() => this.#endHandoff(epoch), this.#timing.handoffWindow);
    timer.unref();
    this.#events.rebalance(epoch, reason, nodeId, movedShare(previous, this.#serving));
  }

  #endHandoff(epoch: number): void {
    const now = performance.now();
    this.#handoffs = this.#handoffs.filter((h) => h.until > now && h.epoch !== epoch);
    this.#events.handoffEnd(epoch);
    for (const member of [...this.#members.values()]) {
      if (!member.leaving) continue;
      const stillOld = this.#handoffs.some((h) => h.ring.has(member.node.id));
      if (!stillOld) {
        this.#members.delete(member.node.id);
        this.#events.retire(member);
      }
    }
  }
}

/** The share of keys whose owner differs between two rings (sampled). */
function movedShare(before: HashRing, after: HashRing): number {
  if (before.size === 0 || after.size === 0) return before.size === after.size ? 0 : 1;
  let moved = 0;
  for (const key of SAMPLE_KEYS) if (before.owner(key) !== after.owner(key)) moved++;
  return moved / SAMPLE_KEYS.length;
}

function newMember(node: RedisNode, weight: number): Member {
  return {
    node,
    weight,
    alone: [node],
    downSince: undefined,
    quarantineUntil: 0,
    failedOver: false,
    leaving: false,
    runId: undefined,
    timer: undefined,
  };
}
