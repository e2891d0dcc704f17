import { asError, LockLostError } from './errors.js';
import { isArray, type LockEngine } from './engine.js';
import { Lock, lostReplies } from './lock.js';
import type { ReplicaSet } from './membership/types.js';
import type { RedisNode } from './node.js';
import {
  OP_ACQUIRE,
  OP_EXTEND,
  OP_QUORUM,
  OP_QUORUM_MARK,
  OP_RELEASE,
  opArg,
  quorumArg,
  TOO_LOW,
} from './scripts/batch.js';

// Rounds of one attempt that may propose a higher fence after a replica said "too low".
const PROPOSAL_ROUNDS = 3;

/**
 * Where a quorum lock's lease is: the replicas that granted or renewed it, each with the
 * generation it had then (a replica marked down since no longer counts), and the replica
 * sets whose majorities the lease needs (docs/safety.md, quorum).
 */
export class QuorumLease {
  readonly nodes: readonly RedisNode[];
  readonly sets: readonly ReplicaSet<RedisNode>[];
  /** Every node an op with this lock's token was sent to: the only ones that may hold it. */
  readonly asked: readonly RedisNode[];
  /** Each holder's generation at the grant; kept only without the restart quarantine. */
  readonly #generations: readonly number[] | undefined;

  /**
   * @param restartQuarantine - the client's option: with it, a holder's replica that went
   *   down cannot let anyone else in before the lease ends (it still holds the token, or it
   *   restarted empty and votes only after `maxTtl + drift`; docs/safety.md, quorum)
   */
  constructor(
    nodes: readonly RedisNode[],
    sets: readonly ReplicaSet<RedisNode>[],
    asked: readonly RedisNode[],
    restartQuarantine: boolean,
  ) {
    this.nodes = nodes;
    this.sets = sets;
    this.asked = asked;
    this.#generations = restartQuarantine ? undefined : nodes.map((node) => node.generation);
  }

  /**
   * Whether the lease still holds as far as this process knows: always with the restart
   * quarantine on; without it, while no majority of a set has gone down since the grant.
   */
  holds(): boolean {
    const generations = this.#generations;
    if (generations === undefined) return true;
    // Called on every validity check: nothing allocated while no holder went down.
    if (this.nodes.every((node, i) => node.generation === generations[i])) return true;
    const live = this.nodes.filter((node, i) => node.generation === generations[i]);
    return hasMajorities(this.sets, live);
  }

  /** Every node the lease may be on, its connection open: every node asked, and `extra`. */
  everywhere(extra: readonly RedisNode[]): readonly RedisNode[] {
    // The common case copies nothing: no extend placed it elsewhere, no node was removed.
    if (extra.length === 0 && !this.asked.some((node) => node.closed)) return this.asked;
    const all = this.asked.filter((node) => !node.closed);
    for (const node of extra) if (!node.closed && !all.includes(node)) all.push(node);
    return all;
  }
}

/** Whether `nodes` include a majority of every set. */
export function hasMajorities(
  sets: readonly ReplicaSet<RedisNode>[],
  nodes: readonly RedisNode[],
): boolean {
  for (const set of sets) {
    let count = 0;
    for (const node of set.members) if (nodes.includes(node)) count++;
    if (count < set.majority) return false;
  }
  return true;
}

function votersOf(sets: readonly ReplicaSet<RedisNode>[]): readonly RedisNode[] {
  if (sets.length === 1) return sets[0]!.voters;
  const voters = new Set<RedisNode>();
  for (const set of sets) for (const node of set.voters) voters.add(node);
  return [...voters];
}

/**
 * The voters asked first: of every set, its first `majority` voters in preference order, so
 * that every client asks the same nodes of a key and a lock costs a majority of ops, not R.
 * The others are asked only when one of these fails (docs/safety.md, quorum).
 */
function firstAsked(sets: readonly ReplicaSet<RedisNode>[]): RedisNode[] {
  if (sets.length === 1) return sets[0]!.voters.slice(0, sets[0]!.majority);
  const asked: RedisNode[] = [];
  for (const set of sets) {
    for (const node of set.voters.slice(0, set.majority)) {
      if (!asked.includes(node)) asked.push(node);
    }
  }
  return asked;
}

/** What replicas answered one quorum op. */
interface Votes {
  readonly granted: RedisNode[];
  /**
   * When the sets were taken: a replica marked down since answers for a later run, which may
   * have restarted empty and not vote yet; its vote does not count.
   */
  readonly since: number;
  /** Replicas that took the op after they went down and came back: released, not counted. */
  stale: RedisNode[] | undefined;
  /** The longest remaining lease of another holder; −1 when none holds the key. */
  heldFor: number;
  /** The highest counter of a replica that found the proposal too low; 0 when none. */
  above: number;
  failure: Error | undefined;
}

/** Sends `arg` to every node of `nodes` at once; counts the replies in `nodes`' order. */
function ask(
  engine: LockEngine,
  nodes: readonly RedisNode[],
  key: string,
  arg: string,
  votes: Votes,
): Promise<void> {
  return engine.sendAll(nodes, engine.redisKey(key), arg).then((replies) => {
    replies.forEach((reply, i) => {
      const node = nodes[i]!;
      if (reply instanceof Error) votes.failure ??= reply;
      else if (node.lostAt >= votes.since) {
        if (typeof reply === 'number' && reply > 0) (votes.stale ??= []).push(node);
      } else count(engine, node, key, reply, votes);
    });
  });
}

function count(
  engine: LockEngine,
  node: RedisNode,
  key: string,
  reply: string | number,
  votes: Votes,
): void {
  if (typeof reply === 'number') {
    if (reply > 0) votes.granted.push(node);
    else votes.heldFor = Math.max(votes.heldFor, -1 - reply);
  } else if (reply.startsWith(TOO_LOW)) {
    votes.above = Math.max(votes.above, Number(reply.slice(TOO_LOW.length)));
  } else votes.failure ??= engine.refusal(reply, node, key);
}

/**
 * One quorum acquire attempt: the same op with one proposed fence to a majority of voting
 * replicas at once (each in its node's batch of this tick), and to the other voters when
 * one of those fails or finds the proposal too low. Granted when a majority of every replica
 * set took it within validity; a minority grant is released at once (a lost reply's by the
 * node's cleanup). A replica whose counter was above the proposal makes the next round
 * propose above it, so a grant's fence is above every fence its replicas issued before.
 * @returns the lock, or the holder's remaining lease in ms (0 when no majority came back)
 * @throws {@link NodeQuarantinedError} when too few replicas can vote, or what a replica
 *   threw when no majority was reached
 */
export function tryQuorum(
  engine: LockEngine,
  key: string,
  ttl: number,
  mark = false,
): Promise<Lock | number> {
  return quorumRound(engine, key, ttl, 1, mark ? OP_QUORUM_MARK : OP_QUORUM);
}

/**
 * One round: the common case (the first majority grants) is a promise chain; anything else
 * goes on in {@link otherVoters}. Not `async`, to keep a loop frame off every acquire.
 */
function quorumRound(
  engine: LockEngine,
  key: string,
  ttl: number,
  round: number,
  op: string,
): Promise<Lock | number> {
  let found: ReturnType<LockEngine['replicaSetsNow']>;
  // Before the sets are taken: a replica marked down from then on does not vote (`Votes`).
  const since = engine.now();
  try {
    found = engine.replicaSetsNow(key);
  } catch (error) {
    return Promise.reject(asError(error));
  }
  if (!isArray(found)) {
    return found.then((sets) => proposeTo(engine, key, ttl, round, sets, op, since));
  }
  return proposeTo(engine, key, ttl, round, found, op, since);
}

/**
 * @param op - `q`, or `Q` to mark the caller waiting where the key is held
 * @param since - when the sets were taken
 */
function proposeTo(
  engine: LockEngine,
  key: string,
  ttl: number,
  round: number,
  sets: readonly ReplicaSet<RedisNode>[],
  op: string,
  since: number,
): Promise<Lock | number> {
  const proposal: Proposal = {
    sets,
    token: engine.runtime.token(),
    sentAt: engine.now(),
    fence: engine.proposeFence(),
    arg: '',
    asked: firstAsked(sets),
    votes: {
      granted: [],
      since,
      stale: undefined,
      heldFor: -1,
      above: 0,
      failure: undefined,
    },
  };
  proposal.arg = quorumArg(proposal.token, ttl, proposal.fence, op);
  return ask(engine, proposal.asked, key, proposal.arg, proposal.votes).then(() =>
    hasMajorities(sets, proposal.votes.granted)
      ? decide(engine, key, ttl, round, proposal, true)
      : otherVoters(engine, key, ttl, round, proposal),
  );
}

/** One round's proposal, as sent. */
interface Proposal {
  readonly sets: readonly ReplicaSet<RedisNode>[];
  readonly token: string;
  readonly sentAt: number;
  readonly fence: number;
  arg: string;
  readonly asked: RedisNode[];
  readonly votes: Votes;
}

/**
 * A replica asked first failed or refused the proposal: the others may still make up the
 * majority (same token and proposal; validity still counts from the first send).
 */
async function otherVoters(
  engine: LockEngine,
  key: string,
  ttl: number,
  round: number,
  proposal: Proposal,
): Promise<Lock | number> {
  const { sets, asked, votes } = proposal;
  let won = false;
  if (votes.heldFor < 0) {
    // Voters of the sets as taken, still in the run they were in (found in the simulator,
    // `pnpm sim --replicas 3 --seed 807`: one had restarted empty meanwhile and took the op).
    const rest = votersOf(sets).filter(
      (node) => !asked.includes(node) && node.lostAt < votes.since,
    );
    if (rest.length > 0) {
      asked.push(...rest);
      await ask(engine, rest, key, proposal.arg, votes);
      won = hasMajorities(sets, votes.granted);
    }
  }
  return decide(engine, key, ttl, round, proposal, won);
}

function decide(
  engine: LockEngine,
  key: string,
  ttl: number,
  round: number,
  proposal: Proposal,
  won: boolean,
): Promise<Lock | number> | Lock | number {
  const { sets, asked, votes, token, fence, sentAt } = proposal;
  engine.sawFence(Math.max(fence, votes.above));
  if (votes.stale !== undefined) engine.releaseToken(votes.stale, key, token);
  if (won) {
    const lease = new QuorumLease(votes.granted, sets, asked, engine.options.restartQuarantine);
    return engine.believable(
      new Lock(engine, votes.granted, 0, key, token, fence, ttl, sentAt, lease),
    );
  }
  engine.releaseToken(votes.granted, key, token);
  if (votes.heldFor >= 0) return votes.heldFor;
  if (votes.above > 0 && round < PROPOSAL_ROUNDS) {
    return quorumRound(engine, key, ttl, round + 1, proposal.arg.charAt(0));
  }
  if (votes.failure !== undefined) throw votes.failure;
  return 0;
}

/**
 * Renews a quorum lease: extend where it is held, place it (above its fence) on voters of
 * the key's sets now that do not hold it. Renewed when a majority of every set confirms.
 * @returns the new lease and when its request was sent; `expired` when validity ran out, or
 *   `gone` when the lock was released or lost, before anything was sent
 * @throws {@link LockLostError} when too many replicas no longer hold the token; what a
 *   replica threw when no majority confirmed (the lease may still hold until validity ends)
 */
export async function extendQuorum(
  engine: LockEngine,
  lease: QuorumLease,
  lock: { readonly key: string; readonly token: string; readonly fence: bigint },
  ttl: number,
  holder: {
    readonly deadline: number;
    /** Still held (not released or lost while the route was awaited). */
    held(): boolean;
    /** The extend is about to place the lease on `nodes`: a release must go there too. */
    placing(nodes: readonly RedisNode[]): void;
    /**
     * The extend may have renewed or placed the lease on `nodes` without renewing the lock
     * (their replies were lost, or the extend failed elsewhere): release it there once the
     * lease as it stood has run out, unless the holder renews meanwhile.
     */
    late(nodes: readonly RedisNode[]): void;
  },
): Promise<{ lease: QuorumLease; sentAt: number } | 'expired' | 'gone'> {
  const sets = await engine.replicaSetsNow(lock.key);
  const sentAt = engine.now();
  // Released while the route was awaited: nothing is sent (found in the simulator: an
  // extend placed the lease on a new replica after the release had gone out).
  if (!holder.held()) return 'gone';
  // Not renewed once this process stopped believing it (as in one-owner mode).
  if (sentAt >= holder.deadline) return 'expired';
  const voters = votersOf(sets);
  const held = voters.filter((node) => lease.nodes.includes(node));
  // Renewed where it is when that is a majority of every set; else placed on the other
  // voters too (a holder went down, or a change's window added a set).
  const added = hasMajorities(sets, held)
    ? []
    : voters.filter((node) => !lease.nodes.includes(node));
  holder.placing(added);
  const floor = Number(lock.fence);
  const results = await Promise.allSettled([
    ...held.map((node) => engine.send(node, lock.key, OP_EXTEND, lock.token, ttl)),
    ...added.map((node) => engine.send(node, lock.key, OP_ACQUIRE, lock.token, ttl, floor)),
  ]);
  const confirmed: RedisNode[] = [];
  let refused = 0;
  let failure: Error | undefined;
  results.forEach((result, i) => {
    const node = i < held.length ? held[i]! : added[i - held.length]!;
    if (result.status === 'rejected') failure ??= result.reason as Error;
    else if (i < held.length ? result.value === 1 : result.value > 0) confirmed.push(node);
    else refused++;
  });
  const late = lostReplies(held, results);
  if (late !== undefined) holder.late(late);
  if (hasMajorities(sets, confirmed)) {
    const asked = [...lease.asked];
    for (const node of added) if (!asked.includes(node)) asked.push(node);
    const renewed = new QuorumLease(confirmed, sets, asked, engine.options.restartQuarantine);
    return { lease: renewed, sentAt };
  }
  if (failure !== undefined && refused === 0) {
    // Not renewed: what this extend renewed or placed ends at the lease's old deadline
    // unless the holder renews meanwhile (as in one-owner mode).
    if (confirmed.length > 0) holder.late(confirmed);
    throw failure;
  }
  // Where this extend placed the lease, take it back: nobody believes it (as in one-owner
  // mode; found in the simulator, `pnpm sim --replicas 3 --seed 713`). Where it renewed a
  // lease held before, the renewal ends at the old deadline.
  const placed = added.filter((node) => confirmed.includes(node));
  if (placed.length > 0) engine.releaseToken(placed, lock.key, lock.token);
  const renewed = held.filter((node) => confirmed.includes(node));
  if (renewed.length > 0) holder.late(renewed);
  throw new LockLostError(
    `lock on ${JSON.stringify(lock.key)} is no longer held by this token on a majority of its replicas (expired or taken)`,
    { key: lock.key, nodeId: lease.nodes[0]?.id },
  );
}

/**
 * Releases a quorum lease on every replica it may be on (`maybe`: where an extend placed or
 * is placing it); a replica that cannot be reached is owed the release (`node.ts`), and the
 * lease expires there by its TTL meanwhile.
 * @returns whether every holder that answered still held the token and deleted it (and at
 *   least one answered)
 */
export function releaseQuorum(
  engine: LockEngine,
  lease: QuorumLease,
  key: string,
  token: string,
  maybe: readonly RedisNode[],
): Promise<boolean> {
  const targets = lease.everywhere(maybe);
  const arg = opArg(OP_RELEASE, token, 0, 0);
  return engine.sendAll(targets, engine.redisKey(key), arg).then((replies) => {
    // Ours until now when every holder that answered still had the token (one that is down
    // says nothing: it holds it, or lost it in an empty restart and votes only later; one
    // that refused the op, an `E` reply, says nothing either).
    let released = 0;
    for (let i = 0; i < targets.length; i++) {
      const reply = replies[i]!;
      if (!lease.nodes.includes(targets[i]!) || typeof reply !== 'number') continue;
      if (reply !== 1) return false;
      released++;
    }
    return released > 0;
  });
}
