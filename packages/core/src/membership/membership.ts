import type { HashRing } from '@shardlock/ring';
import { NodeUnavailableError } from '../errors.js';
import { PendingAdds } from './adding.js';
import { trustAfterContact, windowAfterContact } from './contact.js';
import { candidates, maybeFailedOver, type Handoff } from './handoffs.js';
import { ContactPending, member, quarantined, Stalled, type Member } from './member.js';
import type {
  ContactInfo,
  Decision,
  MembershipTiming,
  NodeState,
  RebalanceReason,
  ReplicaSet,
} from './types.js';
import { replicaSet } from './replicas.js';
import { ringOf, viewOf, viewWithout, type View } from './views.js';

export { ContactPending, Stalled } from './member.js';

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
  #current: View;
  #ring: HashRing;
  #handoffs: Handoff[] = [];
  readonly #adding = new PendingAdds();
  /** {@link #walked}'s rings, per view, for one epoch and one set of nodes back. */
  #walkedRings = new WeakMap<View, HashRing>();
  #walkedKey = '';
  #maybe: ReadonlySet<string> = new Set();
  #epoch = 0;
  /** When this process last showed it was running (`beat()`); `undefined` before the first. */
  #lastBeat: number | undefined;

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
    this.#ring = ringOf(this.#current, new Set(), vnodes);
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
    return m === undefined ? 0 : Math.max(0, Math.ceil(this.#refusedUntil(m) - now));
  }

  /**
   * The nodes that must all grant `key` now: the current owner last (its grant carries the
   * highest fence), and before it every node another client may still place the key on.
   * Outside a handoff: one cached array.
   * @throws {@link NodeQuarantinedError} when a node on the route is down or not yet trusted
   * @throws {@link NodeUnavailableError} when no node serves
   * @throws {@link ContactPending} when a node on the route has not been met yet
   * @throws {@link Stalled} when this process stalled and must `beat()` first
   */
  route(key: string, now: number): readonly T[] {
    if (this.#lastBeat !== undefined && now - this.#lastBeat > 2 * this.#timing.beatEvery) {
      throw new Stalled('this process stalled: its view of the nodes is stale');
    }
    if (this.#ring.size === 0) {
      throw new NodeUnavailableError('no node is serving: every node is removed or failed over', {
        key,
      });
    }
    const owner = this.#members.get(this.#ring.owner(key))!;
    this.#check(owner, key, now);
    const adding = this.#adding.ring(this.#current, now, this.#vnodes, false);
    if (adding !== undefined) this.#checkAdding(adding, key, now);
    if (this.#handoffs.length === 0) return owner.alone;
    const nodes: T[] = [];
    const add = (id: string, until: number): void => {
      const m = this.#members.get(id);
      if (m === undefined || m === owner || nodes.includes(m.handle!)) return;
      this.#check(m, key, now, until);
      nodes.push(m.handle!);
    };
    const back = this.#backNotTrusted();
    for (const h of this.#handoffs) {
      if (h.ring === undefined) continue;
      // Every member of the view before the change is failed over: no old owner stands in
      // for them, and a client that has not applied the change yet uses one alone when it
      // comes back. The key waits for one of them, or for the window's end (found in the
      // simulator with one-node clusters: a node added during a full outage served alone).
      if (h.ring.size === 0) {
        throw quarantined(h.nodeId, key, 'changed while every node was failed over', h.until - now);
      }
      for (const id of candidates(this.#walked(h.view, h.ring, back), key, this.#maybe)) {
        add(id, h.until);
      }
    }
    for (const id of candidates(this.#walked(this.#current, this.#ring, back), key, this.#maybe)) {
      add(id, 0);
    }
    for (const h of this.#handoffs) if (h.whole !== undefined) this.#wholeOwner(h, key, now, add);
    if (nodes.length === 0) return owner.alone;
    nodes.push(owner.handle!);
    return nodes;
  }

  /**
   * In a window opened when a node came back while every member was failed over, the key's
   * owner among every member is on its route too, and one failed over here refuses it until
   * it is back and trusted here, or the window ends: another client may have that node back
   * first and take the key there alone (found in the simulator, `pnpm sim --focus late-hung
   * --seed 901`: two clients, each with a different node back, granted the same keys).
   */
  #wholeOwner(
    h: Handoff,
    key: string,
    now: number,
    add: (id: string, until: number) => void,
  ): void {
    const m = this.#members.get(h.whole!.owner(key));
    if (m === undefined) return;
    if (m.failedOver) {
      throw quarantined(m.id, key, 'came back after every node was failed over', h.until - now);
    }
    add(m.id, h.until);
  }

  /** A key that moves to a node this client failed to add waits (`adding.ts`). */
  #checkAdding(adding: HashRing, key: string, now: number): void {
    const id = adding.owner(key);
    if (this.#current.members.has(id)) return;
    throw quarantined(
      id,
      key,
      'could not be added by this client',
      this.#adding.failedFor(id, now),
    );
  }

  /** Whether keys live on a majority of replicas (docs/safety.md, quorum). */
  get #quorum(): boolean {
    return (this.#timing.replicas ?? 1) > 1;
  }

  /**
   * Quorum mode: the replica sets a grant of `key` needs a majority of, each with the members
   * that can vote now. The current view's set, and while a change's window is open, the set
   * of the view before it too (joint consensus: any two grants share a voter).
   * @throws {@link NodeQuarantinedError} when a set has too few voters, {@link ContactPending}
   *   when a member not met yet could make up the majority, {@link Stalled} as `route`
   */
  replicaSets(key: string, now: number): readonly ReplicaSet<T>[] {
    if (this.#lastBeat !== undefined && now - this.#lastBeat > 2 * this.#timing.beatEvery) {
      throw new Stalled('this process stalled: its view of the nodes is stale');
    }
    const sets = [this.#replicaSet(this.#ring, key, now)];
    for (const h of this.#handoffs) if (h.ring !== undefined) this.#addSet(sets, h.ring, key, now);
    const adding = this.#adding.ring(this.#current, now, this.#vnodes, true);
    if (adding !== undefined) this.#addSet(sets, adding, key, now);
    return sets;
  }

  /** Adds `key`'s set on `ring` to `sets` unless one has the same members. */
  #addSet(sets: ReplicaSet<T>[], ring: HashRing, key: string, now: number): void {
    const set = this.#replicaSet(ring, key, now);
    if (!sets.some((other) => sameMembers(other, set))) sets.push(set);
  }

  #replicaSet(ring: HashRing, key: string, now: number): ReplicaSet<T> {
    const ids = ring.owners(key, Math.min(this.#timing.replicas ?? 1, ring.size));
    return replicaSet(this.#members, ids, key, now, this.#timing.detectionLag);
  }

  #check(m: Member<T>, key: string, now: number, ghostUntil = 0): void {
    if (m.handle === undefined) {
      // Removed by another client, known only from the record: some client may still
      // grant its keys there, and this one cannot reach it.
      throw quarantined(m.id, key, 'was removed by another client', ghostUntil - now);
    }
    // Refused by this client only: others may use it, so it is never failed over.
    if (m.refusal !== undefined) throw m.refusal;
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
    // In quorum mode no key waits for a node that is down: it just does not vote.
    if (m.failedOver || this.#quorum) return NONE;
    return [{ type: 'quarantined', nodeId: id, until: now + this.#timing.quarantine }];
  }

  /**
   * The node's server answered before this client could decide on it (its first contacts
   * are decided together, once every node has answered or failed): it is not down, whatever
   * its first connection said, so it must not fail over meanwhile.
   */
  reachable(id: string): void {
    const m = this.#members.get(id);
    if (m === undefined || m.known) return;
    m.downSince = undefined;
    // Failed over here while out of reach, it answers again: other clients may take it back
    // and grant its keys on it, so a later loss is a new outage, quarantined from then
    // (found by a simulator hunt, seed 1006: its keys went to the successor at once).
    if (m.failedOver) {
      m.failedOver = false;
      this.#rebuild();
    }
  }

  /**
   * This client cannot use the node as configured (its record disagrees, a permission is
   * missing): its keys fail with `error` until a contact succeeds. No failover follows, for
   * other clients may well be using the node (docs/safety.md, "settings").
   */
  refuse(id: string, error: Error): readonly Decision[] {
    const m = this.#members.get(id);
    if (m === undefined) return NONE;
    m.refusal = error;
    // Seen down before it refused (a reconnect met it again): it is not failed over, and if
    // it was, its keys come back to it, to be refused (found by a regression test: a node
    // whose eviction policy changed under a reconnect had its keys granted on a successor).
    // `downSince` stays: when a contact succeeds, the outage opens its window as usual.
    if (!m.failedOver) return NONE;
    m.failedOver = false;
    const before = this.#ring;
    this.#rebuild();
    return [this.#rebalance('rejoin', id, before)];
  }

  /** The node's server answered: first contact, or again after an outage or restart. */
  contact(id: string, info: ContactInfo, now: number): readonly Decision[] {
    const m = this.#members.get(id);
    if (m?.handle === undefined) return NONE;
    const decisions: Decision[] = [];
    const firstContact = !m.known;
    const { trustAt, restarted } = trustAfterContact(m, info, now, this.#timing);
    if (restarted) decisions.push({ type: 'restarted', nodeId: id });
    const downFor = firstContact ? undefined : now - (m.downSince ?? now);
    const window = windowAfterContact(info, downFor, this.#timing);
    m.trustAt = trustAt;
    m.known = true;
    m.runId = info.runId;
    m.downSince = undefined;
    m.refusal = undefined;
    if (trustAt > now) decisions.push({ type: 'quarantined', nodeId: id, until: trustAt });
    // Quorum mode: a server that may have restarted empty lost its fence counter; if it was
    // in the majority of a key's last grant, the next majority may meet no node that knows
    // that fence. It votes once its counter is raised to every other member's: when it is
    // young here, and, however old, when it may have served and no client recorded its
    // counter raised (found in the simulator, `pnpm sim --replicas 3 --seed 751`: a client
    // started after the quarantine trusted it while the others' sync waited for a hung node).
    const unraised = info.served && info.raised !== true && m.raisedRun !== info.runId;
    if (this.#quorum && (trustAt > now || unraised)) {
      m.fenceSync = { pending: true, generation: m.fenceSync.generation + 1 };
      const from = [...this.#members.values()]
        .filter((other) => other !== m && other.handle !== undefined)
        .map((other) => other.id);
      decisions.push({
        type: 'syncMember',
        nodeId: id,
        runId: info.runId,
        generation: m.fenceSync.generation,
        from,
      });
    }
    decisions.push({
      type: 'recordIncarnation',
      nodeId: id,
      runId: info.runId,
      trustIn: Math.max(0, trustAt - now),
      served: info.served,
    });
    if (
      !this.#quorum &&
      window > 0 &&
      !m.failedOver &&
      !m.leaving &&
      this.#current.members.has(id)
    ) {
      const reason = firstContact ? 'start' : 'rejoin';
      decisions.push(this.#openMaybe(id, Math.max(now, trustAt) + window, reason));
    }
    // Quorum mode: down before its addition had run its course, the node may have kept other
    // clients from adding it (addNode rejects while it is down); they add it once it is back.
    // Until they have, a grant also needs a majority of the sets without it (found in the
    // simulator: this client's window ended meanwhile, and its grants on the new set, the node
    // voting again, missed a majority another client held on the old set).
    const { handoffWindow: w } = this.#timing;
    if (
      this.#quorum &&
      downFor !== undefined &&
      m.joinedAt !== undefined &&
      now - downFor < m.joinedAt + w &&
      !m.leaving &&
      this.#current.members.has(id)
    ) {
      const without = viewWithout(this.#current, id);
      decisions.push(this.#openView(without, id, Math.max(now, trustAt) + w, 'rejoin'));
    }
    return decisions;
  }

  /**
   * The pool's heartbeat. A beat that comes much later than due means this process did not
   * run meanwhile (SIGSTOP, a long GC pause): its failure detector was stopped too, so other
   * clients may have failed nodes over and granted their keys on successors while it saw
   * nothing. It then wins on successors too, as after an outage of its own.
   */
  beat(now: number): readonly Decision[] {
    const last = this.#lastBeat;
    this.#lastBeat = now;
    const { beatEvery, detectionLag: lag, quarantine: q } = this.#timing;
    // In quorum mode nothing failed over while this process slept: a node votes or not.
    if (last === undefined || now - last <= 2 * beatEvery || this.#quorum) return NONE;
    if (now - last - beatEvery + 2 * lag < q) return NONE;
    const decisions: Decision[] = [];
    let unfailed = false;
    for (const m of [...this.#members.values()]) {
      if (m.handle === undefined) continue;
      if (m.downSince !== undefined) {
        // Seen down before the stall: it may have come back meanwhile and be used alone by
        // others. Its keys wait (as for a node just seen down) until this client sees it
        // back, or fails it over anew. (One seen back already takes its rejoin path.)
        unfailed ||= m.failedOver;
        m.failedOver = false;
        m.downSince = now;
        decisions.push({ type: 'quarantined', nodeId: m.id, until: now + q });
        continue;
      }
      if (m.leaving || !m.known || !this.#current.members.has(m.id)) continue;
      // Failed over and seen back: the others may have taken it back meanwhile and granted
      // its keys on it, so its keys come back to it, and a loss now opens a quarantine
      // (found by a simulator hunt, `--focus crash-loop --seed 1043`: it died again during
      // the stall, and its keys went to the successors at once).
      unfailed ||= m.failedOver;
      m.failedOver = false;
      const until = Math.max(now, m.trustAt) + this.#timing.handoffWindow;
      decisions.push(this.#openMaybe(m.id, until, 'rejoin'));
    }
    if (unfailed) this.#rebuild();
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
    this.#adding.joined(id);
    const m = member(id, weight, handle);
    m.known = true;
    m.runId = runId;
    m.joinedAt = now;
    this.#members.set(id, m);
    const before = this.#current;
    this.#current = viewOf(new Map([...before.members, [id, weight]]));
    return [this.#openView(before, id, now + this.#timing.handoffWindow, 'add')];
  }

  /**
   * `addNode(id)` began; until the node joins, a grant in quorum mode also needs a majority
   * of each key's set with it, where it cannot vote (`adding.ts`).
   */
  addStarted(id: string, weight: number): void {
    this.#adding.started(id, weight);
  }

  /** `addNode(id)` failed: for a handoff window the keys it would take wait (`adding.ts`). */
  addFailed(id: string, now: number): void {
    this.#adding.failed(id, now + this.#timing.handoffWindow);
  }

  /** Takes a member out of the current view; it stays an old owner for a handoff window. */
  leave(id: string, now: number): readonly Decision[] {
    const m = this.#members.get(id);
    if (m === undefined || m.leaving) return NONE;
    m.leaving = true;
    const before = this.#current;
    this.#current = viewWithout(before, id);
    return [this.#openView(before, id, now + this.#timing.handoffWindow, 'remove')];
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
      decisions.push(this.#openView(viewWithout(this.#current, id), id, now + left, 'start'));
    }
    for (const [id, { weight, left }] of removed) {
      if (this.#members.has(id) || left <= 0) continue;
      this.#members.set(id, { ...member<T>(id, weight, undefined), known: true, leaving: true });
      const members = new Map([...this.#current.members, [id, weight]]);
      decisions.push(this.#openView(viewOf(members), id, now + left, 'start'));
    }
    return decisions;
  }

  /** The earliest time at which {@link advance} has something to do; Infinity if none. */
  nextWake(): number {
    let wake = Number.POSITIVE_INFINITY;
    for (const m of this.#members.values()) {
      if (m.downSince !== undefined && !m.failedOver && m.refusal === undefined) {
        if (!this.#quorum) wake = Math.min(wake, m.downSince + this.#timing.quarantine);
      } else if (m.failedOver && m.downSince === undefined && m.known) {
        wake = Math.min(wake, m.trustAt);
      }
    }
    for (const h of this.#handoffs)
      if (!h.syncing) wake = Math.min(wake, Math.max(h.until, h.retryAt));
    return wake;
  }

  /** Moves time on: failovers, rejoins, and windows whose time has passed. */
  advance(now: number): readonly Decision[] {
    const decisions: Decision[] = [];
    for (const m of [...this.#members.values()]) {
      if (m.handle === undefined) continue;
      if (
        !this.#quorum &&
        !m.failedOver &&
        m.refusal === undefined &&
        m.downSince !== undefined &&
        now >= m.downSince + this.#timing.quarantine
      ) {
        // No window: its keys had no holder anyone still believes (the quarantine passed).
        m.failedOver = true;
        const before = this.#ring;
        this.#rebuild();
        decisions.push(this.#rebalance('failover', m.id, before));
      } else if (m.failedOver && m.downSince === undefined && m.known && now >= m.trustAt) {
        // Back: its keys return to it, and win on the successors that served them meanwhile.
        m.failedOver = false;
        if (this.#current.members.has(m.id)) {
          decisions.push(this.#openMaybe(m.id, now + this.#timing.handoffWindow, 'rejoin'));
        } else this.#rebuild();
      }
    }
    for (const h of this.#handoffs) {
      if (h.syncing || now < h.until || now < h.retryAt) continue;
      h.syncing = true;
      decisions.push({
        type: 'syncFences',
        epoch: h.epoch,
        from: this.#reachable(),
        to: this.#ring.nodes.map((n) => n.id),
      });
    }
    return decisions;
  }

  /** Every member a fence sync reads: all but failed-over nodes and those out of reach. */
  #reachable(): string[] {
    const ids: string[] = [];
    for (const m of this.#members.values())
      if (m.handle !== undefined && !m.failedOver) ids.push(m.id);
    return ids;
  }

  /** Quorum mode: a member's fence counter was raised to the others' (`syncMember`). */
  memberSynced(id: string, generation: number): void {
    const m = this.#members.get(id);
    if (m?.fenceSync.generation !== generation) return;
    m.fenceSync.pending = false;
    m.raisedRun = m.runId;
  }

  /** The fence sync of a window succeeded: it ends. */
  synced(epoch: number): readonly Decision[] {
    const index = this.#handoffs.findIndex((h) => h.epoch === epoch);
    if (index < 0) return NONE;
    this.#handoffs.splice(index, 1);
    this.#maybe = maybeFailedOver(this.#handoffs);
    const decisions: Decision[] = [{ type: 'handoffEnd', epoch }];
    for (const m of [...this.#members.values()]) {
      if (!m.leaving || this.#handoffs.some((h) => h.view?.members.has(m.id) === true)) continue;
      this.#members.delete(m.id);
      if (m.handle !== undefined) decisions.push({ type: 'retire', nodeId: m.id });
    }
    return decisions;
  }

  /** The fence sync of a window failed (a node did not answer): it is tried again later. */
  syncFailed(epoch: number, now: number): void {
    const handoff = this.#handoffs.find((h) => h.epoch === epoch);
    if (handoff === undefined) return;
    handoff.syncing = false;
    handoff.retryAt = now + this.#timing.syncRetry;
  }

  #openView(from: View, nodeId: string, until: number, reason: RebalanceReason): Decision {
    this.#rebuild();
    const ring = ringOf(from, this.#failedOver(), this.#vnodes);
    this.#push({ kind: 'view', nodeId, view: from, ring, until });
    return this.#rebalance(reason, nodeId, ring);
  }

  #openMaybe(nodeId: string, until: number, reason: RebalanceReason): Decision {
    const before = this.#ring;
    const whole = before.size === 0 ? ringOf(this.#current, new Set(), this.#vnodes) : undefined;
    this.#rebuild();
    this.#push({ kind: 'maybe', nodeId, view: undefined, ring: undefined, until, whole });
    this.#maybe = maybeFailedOver(this.#handoffs);
    return this.#rebalance(reason, nodeId, before.has(nodeId) ? before.remove(nodeId) : before);
  }

  #push(handoff: Pick<Handoff, 'kind' | 'nodeId' | 'view' | 'ring' | 'until' | 'whole'>): void {
    this.#handoffs.push({
      ...handoff,
      epoch: this.#epoch,
      syncing: false,
      retryAt: Number.NEGATIVE_INFINITY,
    });
  }

  #rebalance(reason: RebalanceReason, nodeId: string, before: HashRing): Decision {
    return { type: 'rebalance', epoch: this.#epoch, reason, nodeId, before, after: this.#ring };
  }

  /** Builds every view's ring anew (a member failed over or came back, or a view changed). */
  #rebuild(): void {
    const failedOver = this.#failedOver();
    this.#ring = ringOf(this.#current, failedOver, this.#vnodes);
    for (const h of this.#handoffs)
      if (h.view !== undefined) h.ring = ringOf(h.view, failedOver, this.#vnodes);
    this.#epoch++;
  }

  /**
   * The ring a window's route is walked on: `ring`, the view's, with the nodes back but not
   * trusted here yet put back in. Another client that saw such a node restart sooner (a
   * detection lag, or a second of uptime rounding) may trust it already, and place keys on it
   * that this client places elsewhere (found in the simulator, seed 721: two clients each
   * had a different one of two nodes back, and each granted a key on its own alone). On a
   * route, such a node refuses the key until it is trusted here.
   */
  #walked(view: View | undefined, ring: HashRing, back: string[] | undefined): HashRing {
    if (back === undefined || view === undefined) return ring;
    const key = `${this.#epoch}:${back.join(',')}`;
    if (this.#walkedKey !== key) {
      this.#walkedKey = key;
      this.#walkedRings = new WeakMap();
    }
    let walked = this.#walkedRings.get(view);
    if (walked === undefined) {
      const failedOver = this.#failedOver();
      for (const id of back) failedOver.delete(id);
      walked = ringOf(view, failedOver, this.#vnodes);
      this.#walkedRings.set(view, walked);
    }
    return walked;
  }

  /** Ids of the members failed over here that answer again, not trusted yet; if any. */
  #backNotTrusted(): string[] | undefined {
    let back: string[] | undefined;
    for (const m of this.#members.values()) {
      if (m.failedOver && m.downSince === undefined && m.known) (back ??= []).push(m.id);
    }
    return back;
  }

  #failedOver(): Set<string> {
    const ids = new Set<string>();
    for (const m of this.#members.values()) if (m.failedOver) ids.add(m.id);
    return ids;
  }
}

function sameMembers<T>(a: ReplicaSet<T>, b: ReplicaSet<T>): boolean {
  return a.members.length === b.members.length && a.members.every((m, i) => m === b.members[i]);
}
