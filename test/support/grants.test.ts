import { describe, expect, it } from 'vitest';
import type { LetGo } from '../sim/workload.js';
import { problemsOf } from '../sim/oracle.js';
import { expiredOnArrival, findFenceRegressions, findViolations, type Grant } from './grants.js';

// The oracles decide every safety test: the chaos checker's and the simulator's. Fed known
// cases here, so that a broken oracle cannot pass a broken client.

let tokens = 0;
function grant(
  key: string,
  fence: number,
  grantedAt: number,
  believedUntil: number,
  releasedAt = Number.POSITIVE_INFINITY,
): Grant {
  return {
    key,
    token: `t${tokens++}`.padEnd(22, '-'),
    fence: BigInt(fence),
    grantedAt,
    believedUntil,
    releasedAt,
    owner: 'w',
  };
}

describe('mutual exclusion oracle', () => {
  it.each([
    ['two believed intervals that overlap', [grant('k', 1, 0, 10), grant('k', 2, 5, 20)], 1],
    ['one that starts as the other ends', [grant('k', 1, 0, 10), grant('k', 2, 10, 20)], 0],
    ['an early release ends the belief', [grant('k', 1, 0, 10, 4), grant('k', 2, 5, 20)], 0],
    [
      'a lease that outlives its release is not believed',
      [grant('k', 1, 0, 30, 4), grant('k', 2, 5, 20)],
      0,
    ],
    ['different keys never conflict', [grant('a', 1, 0, 10), grant('b', 1, 5, 20)], 0],
    [
      'a third grant inside a long first one',
      [grant('k', 1, 0, 100), grant('k', 2, 101, 110), grant('k', 3, 50, 60)],
      1,
    ],
    ['given out of order', [grant('k', 2, 5, 20), grant('k', 1, 0, 10)], 1],
    [
      // The holder's process stopped between the grant and its first look (a chaos soak).
      'a grant already expired when its holder first looked is never believed',
      [grant('k', 2, 0, 20), grant('k', 1, 5, 3)],
      0,
    ],
  ])('%s', (_what, grants, violations) => {
    expect(findViolations(grants)).toHaveLength(violations);
  });
});

describe('fence oracle', () => {
  it.each([
    ['rising fences', [grant('k', 1, 0, 1), grant('k', 2, 5, 6), grant('k', 9, 9, 10)], 0],
    ['a lower fence later', [grant('k', 5, 0, 1), grant('k', 3, 5, 6)], 1],
    ['an equal fence later', [grant('k', 5, 0, 1), grant('k', 5, 5, 6)], 1],
    [
      'lower after a higher one, then higher again',
      [grant('k', 5, 0, 1), grant('k', 4, 2, 3), grant('k', 6, 4, 5)],
      1,
    ],
    ['fences of other keys do not count', [grant('a', 5, 0, 1), grant('b', 3, 5, 6)], 0],
    ['a lower fence nobody believed', [grant('k', 5, 0, 10), grant('k', 3, 5, 4)], 0],
  ])('%s', (_what, grants, regressions) => {
    expect(findFenceRegressions(grants)).toHaveLength(regressions);
  });
});

describe('expired on arrival', () => {
  it('lists the grants whose validity had run out when their holder first looked', () => {
    const late = grant('k', 1, 5, 3);
    const atOnce = grant('k', 2, 6, 6);
    expect(expiredOnArrival([grant('k', 3, 0, 1), late, atOnce, grant('k', 4, 7, 9)])).toEqual([
      late,
      atOnce,
    ]);
  });
});

describe('stranded-key oracle', () => {
  const result = (
    grants: Grant[],
    holdings: [string, number, number, number][],
    issued: [string, number][] = [],
    letGo: [string, LetGo][] = [],
    stalls: { process: string; from: number; until: number }[] = [],
  ) => ({
    grants,
    letGo: new Map(letGo),
    removedAt: new Map<string, number>(),
    fencesLost: [],
    quietUntil: 0,
    brandNewStarts: new Set(['w']),
    replicas: 1,
    issued: new Map(issued.map(([token, at]) => [token, { at, process: 'c0' }])),
    holdings: new Map(
      holdings.map(([token, from, until, ttl]) => [
        token,
        [{ server: 'n0', from, last: from, until, ttl }],
      ]),
    ),
    problems: [],
    events: 0,
    closedAt: Number.POSITIVE_INFINITY,
    timing: {
      maxTtl: 200,
      commandTimeout: 50,
      healthCheckInterval: 50,
      failureThreshold: 2,
      vnodes: 64,
    },
    stalls,
  });

  it('accepts a key held until its holder let go, or one TTL after it stopped believing', () => {
    const held = grant('k', 1, 0, 50, 20);
    expect(problemsOf(result([held], [[held.token, 0, 20.5, 60]]))).toEqual([]);
    const overstayed = grant('k', 2, 100, 150);
    expect(problemsOf(result([overstayed], [[overstayed.token, 100, 160, 60]]))).toEqual([]);
  });

  it('flags a key that stays held for more than one TTL after its holder gave up', () => {
    const released = grant('k', 1, 0, 50, 20);
    // An extend that landed well after the release renewed it for a whole TTL.
    expect(problemsOf(result([released], [[released.token, 0, 100, 60]]))).toHaveLength(1);
    // One sent just before it may wait for the batch in flight and a hop (oracle.ts).
    expect(problemsOf(result([released], [[released.token, 0, 94, 60]]))).toEqual([]);
  });

  it('gives an op delivered as a cut healed until its client sees the node again', () => {
    const released = grant('k', 1, 0, 50, 20);
    // An extend held by a cut of c0's link to n0 (100 to 300) lands at 303 and renews the key.
    const late: [string, number, number, number][] = [[released.token, 303, 460, 200]];
    const cut = [{ process: 'c0->n0', from: 100, until: 300 }];
    expect(problemsOf(result([released], late, [[released.token, 0]], [], cut))).toEqual([]);
    // The same late op on a link nothing cut is released at once.
    expect(problemsOf(result([released], late, [[released.token, 0]]))).toHaveLength(1);
  });

  it('flags a grant nobody believes that is not cleaned up when its node answers again', () => {
    const late = 'late'.padEnd(22, '-');
    // Drawn at 0, run by a paused server at 400, left for its whole TTL of 5 s.
    expect(problemsOf(result([], [[late, 400, 5_400, 5_000]], [[late, 0]]))).toHaveLength(1);
    // Cleaned up soon after the server answered again.
    expect(problemsOf(result([], [[late, 400, 460, 5_000]], [[late, 0]]))).toEqual([]);
  });

  it('flags a token still held after its release resolved, or after an extend refused as lost', () => {
    const released = grant('k', 1, 0, 150, 20);
    const token = released.token;
    // Deleted by the release itself: fine.
    expect(
      problemsOf(result([released], [[token, 0, 22, 200]], [], [[token, { released: 22 }]])),
    ).toEqual([]);
    // Left to its TTL (within the looser bound) though release() had resolved.
    expect(
      problemsOf(result([released], [[token, 0, 150, 200]], [], [[token, { released: 22 }]])),
    ).toEqual([expect.stringMatching(/^left held: .* its release resolved at 22\.0/)]);
    // Placed by an extend called at 30 and refused at 32: taken back at once, or flagged.
    const lost = { lostExtend: { calledAt: 30, at: 32 } };
    expect(problemsOf(result([released], [[token, 31, 33, 100]], [], [[token, lost]]))).toEqual([]);
    expect(problemsOf(result([released], [[token, 31, 120, 100]], [], [[token, lost]]))).toEqual([
      expect.stringMatching(/^left held: .* placed by an extend refused at 32\.0/),
    ]);
  });

  it('excuses a quorum fence regression only when the first fence was lost between the grants', () => {
    const first = grant('k', 100, 10, 20, 20);
    const second = grant('k', 50, 40, 60, 60);
    const holdings: [string, number, number, number][] = [
      [first.token, 10, 20, 60],
      [second.token, 40, 60, 60],
    ];
    const base = { ...result([first, second], holdings), replicas: 3 };
    const regression = [expect.stringMatching(/^fence regression: k: /)];
    expect(problemsOf(base)).toEqual(regression);
    // Every running server that kept 100 was killed at 30, none left above 40.
    const lost = { ...base, fencesLost: [{ at: 30, above: 40, upTo: 120 }] };
    expect(problemsOf(lost)).toEqual([]);
    // A running server kept 100 (or more), lost after the second grant, or one owner per key.
    expect(problemsOf({ ...lost, fencesLost: [{ at: 30, above: 100, upTo: 120 }] })).toEqual(
      regression,
    );
    expect(problemsOf({ ...lost, fencesLost: [{ at: 50, above: 40, upTo: 120 }] })).toEqual(
      regression,
    );
    expect(problemsOf({ ...lost, replicas: 1 })).toEqual(regression);
  });

  it("flags a late client's grant on two nodes of a brand-new cluster before any fault, and only then", () => {
    const held = grant('k', 1, 10, 50, 20);
    const base = result([held], [[held.token, 10, 20, 60]]);
    const twice = (quietUntil: number) => ({
      ...base,
      quietUntil,
      holdings: new Map([
        [
          held.token,
          [
            { server: 'n0', from: 10, last: 10, until: 20, ttl: 60 },
            { server: 'n1', from: 11, last: 11, until: 20, ttl: 60 },
          ],
        ],
      ]),
    });
    expect(problemsOf(twice(100))).toEqual([
      expect.stringMatching(/^cost: k granted at .* on n0 and n1 of a brand-new cluster/),
    ]);
    // Granted after the first fault: a window may cover it.
    expect(problemsOf(twice(5))).toEqual([]);
    // On one node: fine.
    expect(problemsOf({ ...base, quietUntil: 100 })).toEqual([]);
    // By a client that started with the others at 0: it may have met a node before the
    // record that says it is brand-new.
    expect(problemsOf({ ...twice(100), brandNewStarts: new Set<string>() })).toEqual([]);
  });
});
