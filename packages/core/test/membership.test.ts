import { HashRing } from '@shardlock/ring';
import { describe, expect, it } from 'vitest';
import { NodeQuarantinedError, NodeUnavailableError } from '../src/errors.js';
import { ContactPending, Membership, Stalled } from '../src/membership/membership.js';
import type { ContactInfo, Decision, MembershipTiming } from '../src/membership/types.js';

// Membership is pure: ids and `now` in, routes and decisions out. Every transition is
// tested here with a hand-moved clock (docs/safety.md has the rules).

const Q = 100; // quarantine: maxTtl + drift
const W = 300; // handoff window
const LAG = 20; // detection lag
const TIMING: MembershipTiming = {
  quarantine: Q,
  handoffWindow: W,
  detectionLag: LAG,
  restartQuarantine: true,
  syncRetry: 10,
  beatEvery: 10,
};
const VNODES = 64;

function membership(ids: string[], timing: MembershipTiming = TIMING): Membership<string> {
  return new Membership(
    timing,
    VNODES,
    ids.map((id) => ({ id, weight: 1, handle: id })),
  );
}

const old = (runId = 'r1'): ContactInfo => ({
  runId,
  uptimeMs: 10 * Q,
  ageLimitMs: 11 * Q,
  recordedTrustIn: undefined,
  served: true,
  raised: true,
  listed: true,
});

/** Ends every handoff that is due at `now`, as the pool does once its fence sync succeeds. */
function settle(m: Membership<string>, now: number): void {
  for (const decision of m.advance(now)) {
    if (decision.type === 'syncFences') m.synced(decision.epoch);
  }
}

/**
 * Meets every node as an old, trusted server, long before 0, and lets the handoffs of first
 * contact (others may have failed an old server over unseen) end.
 */
function meetAll(m: Membership<string>, ids: string[], at = -1_000): void {
  for (const id of ids) m.contact(id, old(), at);
  settle(m, at + LAG + Q);
}

/** The first key `accept` takes. */
function keyWhere(accept: (key: string) => boolean): string {
  for (let i = 0; i < 100_000; i++) if (accept(`k${i}`)) return `k${i}`;
  throw new Error('no key');
}

const types = (decisions: readonly Decision[]): string[] => decisions.map((d) => d.type);
const owner = (ids: string[], key: string): string =>
  new HashRing(ids, { vnodes: VNODES }).owner(key);

function refused(run: () => unknown): NodeQuarantinedError {
  try {
    run();
  } catch (error) {
    if (error instanceof NodeQuarantinedError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('first contact', () => {
  it('routes nothing to a node whose server has not been met', () => {
    const m = membership(['a', 'b']);
    expect(() => m.route('k', -2_000)).toThrow(ContactPending);
    meetAll(m, ['a', 'b']);
    expect(m.route('k', 0)).toEqual([owner(['a', 'b'], 'k')]);
  });

  it.each([
    // [what, info, refused for, opens a successor handoff]
    [
      'an old server',
      { uptimeMs: 5 * Q, ageLimitMs: 6 * Q, served: true, listed: true },
      0,
      LAG + Q,
    ],
    [
      'a young server the record lists',
      { uptimeMs: 30, ageLimitMs: 40, served: true, listed: true },
      Q - 30,
      W,
    ],
    [
      'a young server no record lists (a new cluster)',
      { uptimeMs: 30, ageLimitMs: 40, served: false, listed: false },
      0,
      0,
    ],
    [
      'an old server no record lists (a new cluster)',
      { uptimeMs: 5 * Q, ageLimitMs: 6 * Q, served: false, listed: false },
      0,
      0,
    ],
    [
      'a server a little older than Q, but within the detection lag',
      { uptimeMs: Q + 5, ageLimitMs: Q + 15, served: true, listed: true },
      0,
      W,
    ],
    [
      'a server met new, listed since, and maybe older than Q',
      { uptimeMs: 30, ageLimitMs: Q + 1, served: false, listed: true },
      0,
      LAG + Q,
    ],
  ] as const)('%s', (_what, info, refusedFor, handoff) => {
    const m = membership(['a', 'b', 'c']);
    meetAll(m, ['b', 'c']);
    const decisions = m.contact('a', { runId: 'x', recordedTrustIn: undefined, ...info }, 0);
    const key = keyWhere((k) => owner(['a', 'b', 'c'], k) === 'a');
    expect(m.quarantinedFor('a', 0)).toBe(refusedFor);
    if (refusedFor > 0) expect(refused(() => m.route(key, 0)).retryAfter).toBe(refusedFor);
    expect(types(decisions).includes('rebalance')).toBe(handoff > 0);
    const at = refusedFor;
    expect(m.route(key, at)).toEqual(handoff > 0 ? [owner(['b', 'c'], key), 'a'] : ['a']);
    // The handoff lasts its length from when the node is trusted, then a sync ends it.
    settle(m, at + handoff);
    expect(m.route(key, at + handoff)).toEqual(['a']);
  });

  it('adopts the trust time another client recorded for this incarnation', () => {
    const m = membership(['a', 'b']);
    m.contact('a', { ...old('x'), recordedTrustIn: 70 }, 0);
    expect(m.quarantinedFor('a', 0)).toBe(70);
    expect(m.stateOf('a', 0)).toBe('quarantined');
    expect(m.stateOf('a', 70)).toBe('up');
  });

  it('without restartQuarantine, a young listed server is trusted at once', () => {
    const m = membership(['a', 'b'], { ...TIMING, restartQuarantine: false });
    meetAll(m, ['b']);
    const decisions = m.contact(
      'a',
      {
        runId: 'x',
        uptimeMs: 0,
        ageLimitMs: 10 * Q,
        recordedTrustIn: undefined,
        served: true,
        listed: true,
      },
      0,
    );
    expect(m.quarantinedFor('a', 0)).toBe(0);
    // Still won on its successor for a detection lag: others may have failed it over.
    expect(decisions).toMatchObject([
      { type: 'recordIncarnation' },
      { type: 'rebalance', reason: 'start', nodeId: 'a' },
    ]);
  });
});

describe('a node that fails', () => {
  it('is quarantined for Q from when it was seen down, then fails over to its successor', () => {
    const ids = ['a', 'b', 'c'];
    const m = membership(ids);
    meetAll(m, ids);
    const key = keyWhere((k) => owner(ids, k) === 'a');
    expect(types(m.lost('a', 10))).toEqual(['quarantined']);
    expect(refused(() => m.route(key, 50)).retryAfter).toBe(60);
    expect(m.nextWake()).toBe(10 + Q);
    const failover = m.advance(10 + Q);
    expect(failover).toMatchObject([{ type: 'rebalance', reason: 'failover', nodeId: 'a' }]);
    expect(m.route(key, 10 + Q)).toEqual([owner(['b', 'c'], key)]);
    expect(m.stateOf('a', 10 + Q)).toBe('failed-over');
  });

  it('failed over before the start, met again, then lost: quarantined anew from the loss', () => {
    // Found by a simulator hunt (seed 1006): a client whose start waited for a hung node
    // failed another over, met it back (others rejoined it and were granted keys there),
    // then saw it die again; still failed over here, its keys went to the successor at once.
    const ids = ['a', 'b'];
    const m = membership(ids);
    const key = keyWhere((k) => owner(ids, k) === 'a');
    m.reachable('a');
    m.lost('a', 0);
    m.advance(Q);
    expect(m.stateOf('a', Q)).toBe('failed-over');
    m.reachable('a');
    expect(types(m.lost('a', 2 * Q))).toEqual(['quarantined']);
    // The start decides once b answers: a's keys wait for the new outage's quarantine.
    m.contact('b', old(), 2 * Q + 10);
    settle(m, 2 * Q + 10);
    expect(() => m.route(key, 2 * Q + 20)).toThrow(NodeQuarantinedError);
    m.advance(3 * Q);
    expect(m.route(key, 3 * Q)).toEqual(['b']);
  });

  it('refused when met again (this client may not use it, others may) is never failed over', () => {
    const ids = ['a', 'b', 'c'];
    const key = keyWhere((k) => owner(ids, k) === 'a');
    const policy = new Error('allkeys-lru');
    // Refused before its quarantine ran out: no failover follows.
    const before = membership(ids);
    meetAll(before, ids);
    before.lost('a', 0);
    before.refuse('a', policy);
    expect(before.nextWake()).toBe(Number.POSITIVE_INFINITY);
    expect(before.advance(10 * Q)).toEqual([]);
    expect(() => before.route(key, 10 * Q)).toThrow(policy);
    // Refused after it failed over: its keys come back to it, to be refused.
    const after = membership(ids);
    meetAll(after, ids);
    after.lost('a', 0);
    after.advance(Q);
    expect(after.refuse('a', policy)).toMatchObject([{ type: 'rebalance', reason: 'rejoin' }]);
    expect(() => after.route(key, 2 * Q)).toThrow(policy);
    // Usable again: the outage still opens its window on the successors.
    after.contact('a', old(), 3 * Q);
    expect(after.route(key, 3 * Q)).toEqual([owner(['b', 'c'], key), 'a']);
  });

  it('a node added while every member is failed over serves its keys alone only after its window', () => {
    // Found by the simulator (one-node clusters): the only node failed over, this client added
    // another and granted its keys there alone; clients that had not applied the add yet met
    // the old node back and granted the same keys on it.
    const m = membership(['a']);
    meetAll(m, ['a']);
    m.lost('a', 0);
    m.advance(Q);
    m.join('b', 1, 'b', 'r1', Q + 1);
    expect(() => m.route('k', Q + 2)).toThrow(NodeQuarantinedError);
    // The old node back: the key wins on both.
    m.contact('a', old('r2'), Q + 10);
    m.advance(Q + 10);
    expect([...m.route('k', Q + 10)].sort()).toEqual(['a', 'b']);
    // Never back: once the window is over, the new node serves alone.
    const gone = membership(['a']);
    meetAll(gone, ['a']);
    gone.lost('a', 0);
    gone.advance(Q);
    gone.join('b', 1, 'b', 'r1', Q + 1);
    settle(gone, Q + 2 + W);
    expect(gone.route('k', Q + 2 + W)).toEqual(['b']);
  });

  it('met restarted long after its outage: quarantined from the new run’s start too (a crash loop)', () => {
    // Found by the simulator: another client met a run this one never saw, and granted on it
    // until it died; counted from this client's old outage alone, the quarantine was over.
    const ids = ['a', 'b', 'c'];
    const key = keyWhere((k) => owner(ids, k) === 'a');
    const m = membership(ids);
    meetAll(m, ids);
    m.lost('a', 0);
    const young: ContactInfo = { ...old('r3'), uptimeMs: 0, ageLimitMs: 1_000 };
    expect(m.contact('a', young, 10 * Q)).toContainEqual({
      type: 'quarantined',
      nodeId: 'a',
      until: 11 * Q,
    });
    expect(() => m.route(key, 10 * Q + Q / 2)).toThrow(NodeQuarantinedError);
  });

  it('refused, then met restarted: quarantined from the new run’s start, not from the old outage', () => {
    const ids = ['a', 'b', 'c'];
    const key = keyWhere((k) => owner(ids, k) === 'a');
    const m = membership(ids);
    meetAll(m, ids);
    m.lost('a', 0);
    m.refuse('a', new Error('allkeys-lru'));
    // Others used its old run all along; it restarted ~Q/2 before this client met it.
    const young: ContactInfo = { ...old('r2'), uptimeMs: Q / 2, ageLimitMs: Q / 2 + 1_000 };
    expect(m.contact('a', young, 10 * Q)).toContainEqual({
      type: 'quarantined',
      nodeId: 'a',
      until: 10 * Q + Q / 2,
    });
    expect(() => m.route(key, 10 * Q + Q / 2 - 1)).toThrow(NodeQuarantinedError);
  });

  it('comes back after a failover through a handoff from its successors, ended by a fence sync', () => {
    const ids = ['a', 'b', 'c'];
    const m = membership(ids);
    meetAll(m, ids);
    const key = keyWhere((k) => owner(ids, k) === 'a');
    m.lost('a', 0);
    m.advance(Q);
    m.contact('a', old(), 2 * Q);
    expect(m.nextWake()).toBeLessThanOrEqual(2 * Q);
    expect(m.advance(2 * Q)).toMatchObject([{ type: 'rebalance', reason: 'rejoin', nodeId: 'a' }]);
    const successor = owner(['b', 'c'], key);
    expect(m.route(key, 2 * Q)).toEqual([successor, 'a']);
    const sync = m.advance(2 * Q + W);
    expect(sync).toMatchObject([{ type: 'syncFences' }]);
    const { from, to } = sync[0] as Extract<Decision, { type: 'syncFences' }>;
    // Every counter it can reach is read: the highest becomes every serving node's floor.
    expect([...from].sort()).toEqual(ids);
    expect([...to].sort()).toEqual(ids);
    // Until the sync is done the handoff holds, however late it is.
    expect(m.route(key, 2 * Q + 2 * W)).toEqual([successor, 'a']);
    const epoch = (sync[0] as { epoch: number }).epoch;
    expect(types(m.synced(epoch))).toEqual(['handoffEnd']);
    expect(m.route(key, 2 * Q + 2 * W)).toEqual(['a']);
  });

  it('tries a failed fence sync again', () => {
    const m = membership(['a', 'b']);
    meetAll(m, ['a', 'b']);
    m.lost('a', 0);
    m.advance(Q);
    m.contact('a', old(), Q);
    m.advance(Q);
    const [sync] = m.advance(Q + W) as [Extract<Decision, { type: 'syncFences' }>];
    m.syncFailed(sync.epoch, Q + W + 1);
    expect(m.nextWake()).toBe(Q + W + 1 + TIMING.syncRetry);
    expect(m.advance(Q + W + 1 + TIMING.syncRetry)).toMatchObject([
      { type: 'syncFences', epoch: sync.epoch },
    ]);
  });

  it.each([
    ['a blip well inside the quarantine', 10, false],
    ['an outage another client may have failed over', Q - 2 * LAG, true],
  ])(
    'after %s, a handoff from successors only when others may have failed over',
    (_what, downFor, handoff) => {
      const ids = ['a', 'b', 'c'];
      const m = membership(ids);
      meetAll(m, ids);
      m.lost('a', 0);
      const decisions = m.contact('a', old(), downFor);
      expect(types(decisions).includes('rebalance')).toBe(handoff);
    },
  );

  it('finds an empty restart by its run_id and refuses its keys for Q from when it was seen down', () => {
    const m = membership(['a', 'b']);
    meetAll(m, ['a', 'b']);
    m.lost('a', 5);
    const decisions = m.contact('a', old('r2'), 20);
    expect(types(decisions)).toContain('restarted');
    expect(m.quarantinedFor('a', 20)).toBe(5 + Q - 20);
  });

  it('a restart shorter than a health check is quarantined from when it was seen', () => {
    const m = membership(['a', 'b']);
    meetAll(m, ['a', 'b']);
    m.contact('a', old('r2'), 40);
    expect(m.quarantinedFor('a', 40)).toBe(Q);
  });

  it('when every node has failed over, says no node serves (never a ring error), and takes one back', () => {
    const m = membership(['a']);
    meetAll(m, ['a']);
    m.lost('a', 0);
    m.advance(Q);
    expect(() => m.route('k', Q)).toThrow(NodeUnavailableError);
    m.contact('a', old('r2'), 2 * Q);
    m.advance(m.nextWake());
    expect(m.route('k', 3 * Q)).toEqual(['a']);
  });
});

describe('nodes other clients may have failed over', () => {
  it('wins on every node another client could use, whatever subset of them it failed over', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const m = membership(ids);
    meetAll(m, ids);
    // a and b were down long enough for another client to fail them over; both are back.
    for (const id of ['a', 'b']) m.lost(id, 0);
    for (const id of ['a', 'b']) m.contact(id, old(), Q);
    for (let i = 0; i < 500; i++) {
      const key = `key${i}`;
      const route = m.route(key, Q);
      // Whatever the other client failed over ({}, {a}, {b} or {a, b}), its owner is here.
      for (const failed of [[], ['a'], ['b'], ['a', 'b']]) {
        const theirs = owner(
          ids.filter((id) => !failed.includes(id)),
          key,
        );
        expect(route, `${key} with ${failed.join('+')} failed over`).toContain(theirs);
      }
      expect(route.at(-1)).toBe(owner(ids, key));
    }
  });

  it('a node back but not trusted here yet is on the route of a window: others may trust it already', () => {
    // Found by the simulator (`pnpm sim --seed 721`): two nodes; this client saw b restart
    // 4.5 ms after another client did, so the other trusted b first, while it still had a
    // failed over; this client then saw a come back first. Each granted k on the node it
    // had back, alone: a window's route left out b, failed over here.
    const ids = ['a', 'b'];
    const key = keyWhere((k) => owner(ids, k) === 'a');
    const m = membership(ids);
    meetAll(m, ids);
    m.lost('a', 0);
    m.lost('b', 1);
    m.advance(Q + 1);
    expect(m.stateOf('a', Q + 1)).toBe('failed-over');
    // b restarted empty: back, quarantined until 2Q + 10 here (up to a detection lag
    // sooner for a client that saw the restart first).
    m.contact('b', { ...old('r2'), uptimeMs: 0, ageLimitMs: 1_000 }, Q + 10);
    // a answers again: its keys return, with a window on where others may place them.
    m.contact('a', old(), 2 * Q);
    m.advance(2 * Q);
    const error = refused(() => m.route(key, 2 * Q));
    expect(error.nodeId).toBe('b');
    // Once b is trusted here, the key wins on both.
    m.advance(2 * Q + 10);
    expect([...m.route(key, 2 * Q + 10)].sort()).toEqual(ids);
  });

  it('after this process stalls past the quarantine, wins on successors for a window', () => {
    const ids = ['a', 'b', 'c'];
    const m = membership(ids);
    meetAll(m, ids);
    m.beat(0);
    const key = keyWhere((k) => owner(ids, k) === 'a');
    expect(m.route(key, 5)).toEqual(['a']);
    // No beat for far longer than the heartbeat: the route asks for one first.
    expect(() => m.route(key, 10 * Q)).toThrow(Stalled);
    expect(types(m.beat(10 * Q))).toEqual(['rebalance', 'rebalance', 'rebalance']);
    // Any of them may have been failed over meanwhile, in any combination: all must grant.
    const route = m.route(key, 10 * Q);
    expect([...route].sort()).toEqual(ids);
    expect(route.at(-1)).toBe('a');
  });

  it('a node failed over and seen back before the stall is quarantined when lost after it', () => {
    // Found by a simulator hunt (`--focus crash-loop --seed 1043`): failed over, met back and
    // still in its restart quarantine here when this process stalled; meanwhile the others
    // took it back, granted keys on it, and it died again. Still failed over here, its loss
    // opened no quarantine and its keys went to the successors at once.
    const ids = ['a', 'b', 'c'];
    const m = membership(ids);
    meetAll(m, ids);
    m.beat(0);
    const key = keyWhere((k) => owner(ids, k) === 'a');
    m.lost('a', 0);
    m.advance(Q);
    expect(m.stateOf('a', Q)).toBe('failed-over');
    m.contact('a', { ...old('r2'), uptimeMs: 0 }, Q + 10);
    m.beat(Q + 10);
    m.beat(10 * Q);
    expect(types(m.lost('a', 10 * Q))).toEqual(['quarantined']);
    expect(() => m.route(key, 10 * Q + 1)).toThrow(NodeQuarantinedError);
  });

  it('a short stall changes nothing', () => {
    const m = membership(['a', 'b'], { ...TIMING, detectionLag: 1 });
    meetAll(m, ['a', 'b']);
    m.beat(0);
    expect(m.beat(3 * TIMING.beatEvery)).toEqual([]);
  });
});

describe('every node failed over, then back one by one', () => {
  // Found in the simulator (`pnpm sim --focus late-hung --seed 901`, replayed in sim-found):
  // both nodes hung past their failover; one client met n0 back first, another n1, and each
  // took every key on its own node alone, a double grant.
  const ids = ['a', 'b'];
  /** Both nodes failed over, then `a` back at 2Q. */
  function aBackFirst(): Membership<string> {
    const m = membership(ids);
    meetAll(m, ids);
    m.lost('a', 0);
    m.lost('b', 0);
    m.advance(Q);
    expect(m.ring.size).toBe(0);
    m.contact('a', old(), 2 * Q);
    m.advance(2 * Q);
    return m;
  }

  it('a key waits for its owner on the whole ring until that is back here or the window ends', () => {
    const m = aBackFirst();
    const onA = keyWhere((k) => owner(ids, k) === 'a');
    const onB = keyWhere((k) => owner(ids, k) === 'b');
    expect(m.route(onA, 2 * Q)).toEqual(['a']);
    // Another client may have b back and serve this key there alone.
    expect(refused(() => m.route(onB, 2 * Q)).nodeId).toBe('b');
    m.contact('b', old(), 3 * Q);
    m.advance(3 * Q);
    expect(m.route(onB, 3 * Q)).toContain('b');
  });

  it('after the window, a key whose owner is still down is taken on the node back', () => {
    const m = aBackFirst();
    settle(m, 2 * Q + W);
    const onB = keyWhere((k) => owner(ids, k) === 'b');
    expect(m.route(onB, 2 * Q + W)).toEqual(['a']);
  });
});

describe('membership changes', () => {
  it('a join: moved keys win on their old owner, then the new one alone after the sync', () => {
    const m = membership(['a', 'b']);
    meetAll(m, ['a', 'b']);
    const decisions = m.join('c', 1, 'c', 'rc', 0);
    expect(decisions).toMatchObject([{ type: 'rebalance', reason: 'add', nodeId: 'c' }]);
    const moved = keyWhere((k) => owner(['a', 'b', 'c'], k) === 'c');
    const stays = keyWhere((k) => owner(['a', 'b', 'c'], k) === 'a');
    expect(m.route(moved, 1)).toEqual([owner(['a', 'b'], moved), 'c']);
    expect(m.route(stays, 1)).toEqual(['a']);
    const [sync] = m.advance(W) as [Extract<Decision, { type: 'syncFences' }>];
    m.synced(sync.epoch);
    expect(m.route(moved, W)).toEqual(['c']);
  });

  it('an add that failed: for a window the keys that would move to the node wait; others do not', () => {
    const m = membership(['a', 'b']);
    meetAll(m, ['a', 'b']);
    const moved = keyWhere((k) => owner(['a', 'b', 'c'], k) === 'c');
    const stays = keyWhere((k) => owner(['a', 'b', 'c'], k) === 'a');
    m.addStarted('c', 1);
    // While the call waits, keys stay where they are (every client waits alike for the node).
    expect(m.route(moved, 0)).toEqual([owner(['a', 'b'], moved)]);
    m.addFailed('c', 10);
    expect(refused(() => m.route(moved, 11)).retryAfter).toBe(W - 1);
    expect(m.route(stays, 11)).toEqual(['a']);
    // A retry that waits keeps them waiting; the window runs from the failure.
    m.addStarted('c', 1);
    expect(refused(() => m.route(moved, 10 + W - 1)).retryAfter).toBe(1);
    expect(m.route(moved, 10 + W)).toEqual([owner(['a', 'b'], moved)]);
    // A retry that joins opens the add's own window.
    m.addFailed('c', 20 + W);
    m.join('c', 1, 'c', 'rc', 30 + W);
    expect(m.route(moved, 30 + W)).toEqual([owner(['a', 'b'], moved), 'c']);
  });

  it('a leave: the node stays an old owner for the window, then is retired', () => {
    const ids = ['a', 'b', 'c'];
    const m = membership(ids);
    meetAll(m, ids);
    m.leave('c', 0);
    expect(m.has('c')).toBe(false);
    const moved = keyWhere((k) => owner(ids, k) === 'c');
    expect(m.route(moved, 1)).toEqual(['c', owner(['a', 'b'], moved)]);
    const [sync] = m.advance(W) as [Extract<Decision, { type: 'syncFences' }>];
    expect(m.synced(sync.epoch)).toEqual([
      { type: 'handoffEnd', epoch: sync.epoch },
      { type: 'retire', nodeId: 'c' },
    ]);
    expect(m.ids()).toEqual(['a', 'b']);
  });

  it('a client lagging on a join and one inside its window share a node for every key, also after a failover', () => {
    const ids = ['a', 'b', 'c'];
    const ahead = membership(ids);
    const behind = membership(ids);
    meetAll(ahead, ids);
    meetAll(behind, ids);
    ahead.join('d', 1, 'd', 'rd', 0);
    // The old owner of some moved keys dies; both clients fail it over.
    for (const m of [ahead, behind]) {
      m.lost('a', 1);
      m.advance(1 + Q);
    }
    for (let i = 0; i < 2_000; i++) {
      const key = `key${i}`;
      const mine = ahead.route(key, 2 + Q);
      const theirs = behind.route(key, 2 + Q);
      expect(
        mine.some((id) => theirs.includes(id)),
        key,
      ).toBe(true);
    }
  });

  it('honours a recent add and a recent removal that the cluster record shows at start', () => {
    const ids = ['a', 'b', 'c'];
    const m = membership(ids);
    meetAll(m, ids);
    const decisions = m.recentChanges(
      new Map([['c', 50]]),
      new Map([['gone', { weight: 1, left: 80 }]]),
      0,
    );
    expect(types(decisions)).toEqual(['rebalance', 'rebalance']);
    const added = keyWhere((k) => owner(ids, k) === 'c' && owner([...ids, 'gone'], k) === 'c');
    expect(m.route(added, 1)).toEqual([owner(['a', 'b'], added), 'c']);
    // The removed node is out of reach: its keys wait until its window is over.
    const ghost = keyWhere((k) => owner([...ids, 'gone'], k) === 'gone');
    expect(refused(() => m.route(ghost, 10)).retryAfter).toBe(70);
  });
});

describe('quorum mode (3 replicas)', () => {
  const QUORUM: MembershipTiming = { ...TIMING, replicas: 3 };
  const ids = ['a', 'b', 'c', 'd'];
  const voters = (m: Membership<string>, key: string, now: number): string[][] =>
    m.replicaSets(key, now).map((set) => [...set.voters].sort());

  it('a key has the first 3 nodes of its preference list; every met, trusted one votes', () => {
    const m = membership(ids, QUORUM);
    expect(() => m.replicaSets('k', 0)).toThrow(ContactPending);
    meetAll(m, ids);
    const [set] = m.replicaSets('k', 0);
    expect([...set!.members]).toEqual(new HashRing(ids, { vnodes: VNODES }).owners('k', 3));
    expect(set!.majority).toBe(2);
    expect(set!.voters).toEqual(set!.members);
  });

  it('a node down does not vote and nothing fails over, however long it stays down', () => {
    const m = membership(ids, QUORUM);
    meetAll(m, ids);
    const key = 'k';
    const [first, second, third] = m.replicaSets(key, 0)[0]!.members;
    expect(m.lost(first!, 0)).toEqual([]);
    expect(voters(m, key, 0)).toEqual([[second!, third!].sort()]);
    expect(m.advance(10 * Q)).toEqual([]);
    expect(m.nextWake()).toBe(Number.POSITIVE_INFINITY);
    expect(m.replicaSets(key, 10 * Q)[0]!.members).toContain(first);
    // A second replica down leaves no majority: a typed error, not a grant on one node.
    m.lost(second!, 10 * Q);
    expect(refused(() => m.replicaSets(key, 10 * Q)).message).toMatch(/only 1 of the 3 replicas/);
  });

  it('a server that restarted empty votes after the quarantine and once its fences are synced', () => {
    const m = membership(ids, QUORUM);
    meetAll(m, ids);
    const key = 'k';
    const [first] = m.replicaSets(key, 0)[0]!.members;
    const decisions = m.contact(first!, { ...old('r2'), uptimeMs: 0 }, 0);
    const sync = decisions.find((d) => d.type === 'syncMember');
    expect(sync).toMatchObject({ nodeId: first, from: ids.filter((id) => id !== first) });
    expect(voters(m, key, Q / 2)[0]).not.toContain(first);
    expect(voters(m, key, 2 * Q)[0]).not.toContain(first);
    m.memberSynced(first!, (sync as { generation: number }).generation - 1);
    expect(voters(m, key, 2 * Q)[0]).not.toContain(first);
    m.memberSynced(first!, (sync as { generation: number }).generation);
    expect(voters(m, key, 2 * Q)[0]).toContain(first);
  });

  it('a server older than the quarantine that may have served votes once its counter is raised, unless a client recorded it raised', () => {
    // Found in the simulator (`pnpm sim --replicas 3 --seed 751`): a client started after
    // the quarantine trusted a replica whose counter nobody could raise yet.
    const key = 'k';
    const [first] = new HashRing(ids, { vnodes: VNODES }).owners(key, 3);
    const at = LAG + Q + 1;
    for (const [info, syncs] of [
      [{ ...old('r2'), raised: false }, true],
      [
        {
          runId: 'r2',
          uptimeMs: 10 * Q,
          ageLimitMs: 11 * Q,
          recordedTrustIn: undefined,
          served: true,
          listed: true,
        },
        true,
      ],
      [{ ...old('r2'), raised: true }, false],
      [{ ...old('r2'), raised: false, served: false }, false],
    ] as const) {
      // A client that starts now: every node met for the first time, `first` as `info` says.
      const m = membership(ids, QUORUM);
      const decisions = ids.flatMap((id) => m.contact(id, id === first ? info : old(), 0));
      settle(m, at);
      const sync = decisions.find((d) => d.type === 'syncMember');
      expect(sync !== undefined, JSON.stringify(info)).toBe(syncs);
      expect(voters(m, key, at)[0]!.includes(first!)).toBe(!syncs);
      if (sync === undefined) continue;
      expect(sync).toMatchObject({ nodeId: first, runId: 'r2' });
      m.memberSynced(first!, (sync as { generation: number }).generation);
      expect(voters(m, key, at)[0]).toContain(first);
      // Synced here: meeting the same run again (a reconnect) asks for no second sync.
      expect(m.contact(first!, info, at).some((d) => d.type === 'syncMember')).toBe(false);
    }
  });

  it('while its addNode waits for the node, a grant also needs a majority of the sets with it', () => {
    const m = membership(ids, QUORUM);
    meetAll(m, ids);
    const key = keyWhere((k) => {
      const before = new HashRing(ids, { vnodes: VNODES }).owners(k, 3);
      return (
        new HashRing([...ids, 'e'], { vnodes: VNODES }).owners(k, 3)[0] === 'e' &&
        !before.includes('e')
      );
    });
    const before = new HashRing(ids, { vnodes: VNODES }).owners(key, 3);
    const after = new HashRing([...ids, 'e'], { vnodes: VNODES }).owners(key, 3);
    expect(m.replicaSets(key, 0)).toHaveLength(1);
    m.addStarted('e', 1);
    const sets = m.replicaSets(key, 0);
    expect(sets.map((set) => [...set.members].sort())).toEqual([
      [...before].sort(),
      after.filter((id) => id !== 'e').sort(),
    ]);
    // It cannot vote there: the other two must.
    expect(sets[1]!.majority).toBe(2);
    // A failed call keeps the sets for a handoff window (the operator retries it).
    m.addFailed('e', 10);
    expect(m.replicaSets(key, 10 + W - 1)).toHaveLength(2);
    expect(m.replicaSets(key, 10 + W)).toHaveLength(1);
    // A call that joins it hands over to the join's own window.
    m.addStarted('e', 1);
    m.join('e', 1, 'e', 'r1', 20 + W);
    settle(m, 21 + 2 * W);
    expect(m.replicaSets(key, 21 + 2 * W).map((set) => [...set.members].sort())).toEqual([
      [...after].sort(),
    ]);
  });

  it('while an addition rolls out, a grant needs a majority of the old and of the new set', () => {
    const m = membership(ids, QUORUM);
    meetAll(m, ids);
    m.join('e', 1, 'e', 'r1', 0);
    const key = keyWhere((k) => {
      const before = new HashRing(ids, { vnodes: VNODES }).owners(k, 3);
      return (
        new HashRing([...ids, 'e'], { vnodes: VNODES }).owners(k, 3).includes('e') &&
        !before.includes('e')
      );
    });
    const sets = m.replicaSets(key, 1).map((set) => [...set.members]);
    expect(sets).toHaveLength(2);
    expect(sets[0]).toContain('e');
    expect(sets[1]).toEqual(new HashRing(ids, { vnodes: VNODES }).owners(key, 3));
    settle(m, W + 1);
    expect(m.replicaSets(key, W + 1)).toHaveLength(1);
  });

  it('a node that went down while its addition rolled out brings the joint sets back when it returns', () => {
    // Found by the simulator: the other clients' addNode rejects while the node is down, so
    // they add it only once it is back; this client's window had ended meanwhile, and its
    // grants on the new set (the node voting again) missed the old set's majority.
    const m = membership(ids, QUORUM);
    meetAll(m, ids);
    m.join('e', 1, 'e', 'r1', 0);
    const key = keyWhere(
      (k) =>
        new HashRing([...ids, 'e'], { vnodes: VNODES }).owners(k, 3).includes('e') &&
        !new HashRing(ids, { vnodes: VNODES }).owners(k, 3).includes('e'),
    );
    m.lost('e', W / 2);
    settle(m, W + 1);
    expect(m.replicaSets(key, W + 1)).toHaveLength(1);
    m.contact('e', old('r1'), 3 * W);
    const sets = m.replicaSets(key, 3 * W).map((set) => [...set.members]);
    expect(sets).toEqual([
      expect.arrayContaining(['e']),
      new HashRing(ids, { vnodes: VNODES }).owners(key, 3),
    ]);
    settle(m, 4 * W + 1);
    expect(m.replicaSets(key, 4 * W + 1)).toHaveLength(1);
    // Down only after its addition had run its course: nothing to bring back.
    m.lost('e', 5 * W);
    m.contact('e', old('r1'), 6 * W);
    expect(m.replicaSets(key, 6 * W)).toHaveLength(1);
  });

  it('a stall of this process moves nothing', () => {
    const m = membership(ids, QUORUM);
    meetAll(m, ids);
    m.beat(0);
    expect(() => m.replicaSets('k', 10 * Q)).toThrow(Stalled);
    expect(m.beat(10 * Q)).toEqual([]);
    expect(m.replicaSets('k', 10 * Q)[0]!.voters).toHaveLength(3);
  });
});
