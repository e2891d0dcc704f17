import fc from 'fast-check';
import {
  base,
  changeFault,
  MAX_LAG,
  node,
  nodeFault,
  type Fault,
  type Schedule,
} from './schedule.js';

// Focused schedules for hunts (`pnpm sim --focus <name>`): one shape of fault made often,
// for the rules random schedules rarely reach (docs/safety.md, "Reverted fixes", names the
// replays each found with a fix put back). Changing one changes what its seeds replay: add
// a new focus instead.

const agreeingSkews = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 9, maxLength: 9 });
/** A node that hangs a little longer than a command timeout, or a little shorter. */
const shortPause = fc.record({
  at: fc.integer({ min: 50, max: 1_700 }),
  type: fc.constant('pause' as const),
  node,
  duration: fc.integer({ min: 20, max: 300 }),
});

const restartedNode = fc.record(
  {
    at: fc.integer({ min: 50, max: 900 }),
    type: fc.constant('kill' as const),
    node,
    downFor: fc.integer({ min: 0, max: 300 }),
  },
  { requiredKeys: ['at', 'type', 'node', 'downFor'] },
);
const lateHeldBack = fc.record(
  {
    at: fc.integer({ min: 50, max: 1_300 }),
    type: fc.constant('late' as const),
    settings: fc.constant('same' as const),
    hangs: fc.record(
      { node, duration: fc.integer({ min: 100, max: 1_200 }) },
      { requiredKeys: ['node', 'duration'] },
    ),
  },
  { requiredKeys: ['at', 'type', 'settings', 'hangs'] },
);

/** Restarts, and clients started while a node hangs: their starts decide late. */
const lateHung: fc.Arbitrary<Schedule> = fc.record({
  ...base,
  nodes: fc.integer({ min: 2, max: 4 }),
  skews: agreeingSkews,
  faults: fc
    .tuple(
      restartedNode,
      lateHeldBack,
      fc.array(fc.oneof(restartedNode, lateHeldBack, nodeFault), { maxLength: 2 }),
    )
    .map(([a, b, rest]) => [a, b, ...rest]),
});

/** A client with other settings, held back by a hung node, as another node dies. */
const lateSettings: fc.Arbitrary<Schedule> = fc
  .record({
    ...base,
    nodes: fc.integer({ min: 1, max: 3 }),
    skews: agreeingSkews,
    t: fc.integer({ min: 50, max: 1_200 }),
    settings: fc.constantFrom('maxTtl' as const, 'vnodes' as const),
    hang: fc.record({ node, duration: fc.integer({ min: 100, max: 1_200 }) }),
    killAfter: fc.integer({ min: 0, max: 300 }),
    killNode: node,
    downFor: fc.integer({ min: 0, max: 800 }),
    rest: fc.array(fc.oneof(nodeFault, changeFault), { maxLength: 2 }),
  })
  .map(({ t, settings, hang, killAfter, killNode, downFor, rest, ...b }) => ({
    ...b,
    faults: [
      { at: t, type: 'late' as const, settings, hangs: hang },
      { at: t + killAfter, type: 'kill' as const, node: killNode, downFor },
      ...rest,
    ],
  }));

/** Two nodes restarted empty close together: clients see them back at different times. */
const twoRestarts: fc.Arbitrary<Schedule> = fc
  .record({
    ...base,
    nodes: fc.integer({ min: 2, max: 4 }),
    skews: agreeingSkews,
    t: fc.integer({ min: 50, max: 1_200 }),
    a: node,
    b: node,
    gap: fc.integer({ min: 0, max: 300 }),
    downA: fc.integer({ min: 0, max: 500 }),
    downB: fc.integer({ min: 0, max: 500 }),
    restart: fc.boolean(),
    rest: fc.array(fc.oneof(nodeFault, changeFault), { maxLength: 2 }),
  })
  .map(({ t, a, b, gap, downA, downB, restart, rest, ...x }) => ({
    ...x,
    faults: [
      { at: t, type: 'kill' as const, node: a, downFor: downA },
      restart
        ? { at: t + gap, type: 'restart' as const, node: b }
        : { at: t + gap, type: 'kill' as const, node: b, downFor: downB },
      ...rest,
    ],
  }));

/** Nodes that hang a little longer than a command timeout, again and again: replies lost. */
const shortPauses: fc.Arbitrary<Schedule> = fc.record({
  ...base,
  skews: agreeingSkews,
  faults: fc.array(shortPause, { minLength: 2, maxLength: 6 }),
});

/** A node removed while it hangs, near the end of the run: releases owed to it at close(). */
const removedHanging: fc.Arbitrary<Schedule> = fc
  .record({
    ...base,
    nodes: fc.integer({ min: 2, max: 5 }),
    skews: agreeingSkews,
    t: fc.integer({ min: 900, max: 1_900 }),
    victim: node,
    hang: fc.integer({ min: 50, max: 900 }),
    after: fc.integer({ min: 0, max: 300 }),
    lags: fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 8, maxLength: 8 }),
    rest: fc.array(fc.oneof(nodeFault, changeFault), { maxLength: 2 }),
  })
  .map(({ t, victim, hang, after, lags, rest, ...x }) => ({
    ...x,
    faults: [
      { at: t, type: 'pause' as const, node: victim, duration: hang },
      { at: t + after, type: 'remove' as const, node: victim, lags },
      ...rest,
    ],
  }));

const quorumBase = {
  ...base,
  nodes: fc.integer({ min: 3, max: 5 }),
  replicas: fc.constant(3 as const),
  skews: fc.oneof(
    agreeingSkews,
    fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 9, maxLength: 9 }),
  ),
};

/** A node added that dies while the clients apply its addition (and up to two more faults). */
const addThatDiesFields = {
  t: fc.integer({ min: 50, max: 1_300 }),
  lags: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 8, maxLength: 8 }),
  after: fc.integer({ min: 0, max: 300 }),
  downFor: fc.integer({ min: 0, max: 1_000 }),
  rest: fc.array(fc.oneof(nodeFault, changeFault), { maxLength: 2 }),
};

function addThatDies<X extends object>(
  drawn: X & { t: number; lags: number[]; after: number; downFor: number; rest: Fault[] },
): Omit<X, 't' | 'lags' | 'after' | 'downFor' | 'rest'> & { faults: Fault[] } {
  const { t, lags, after, downFor, rest, ...x } = drawn;
  return { ...x, faults: [{ at: t, type: 'add', lags, dies: { after, downFor } }, ...rest] };
}

/** Quorum: a node added that dies while the clients apply its addition. */
const quorumAddDies: fc.Arbitrary<Schedule> = fc
  .record({ ...quorumBase, ...addThatDiesFields })
  .map(addThatDies);

const replyCut = fc.record({
  at: fc.integer({ min: 50, max: 1_700 }),
  type: fc.constant('cut' as const),
  client: fc.nat(8),
  node,
  nodes: fc.integer({ min: 1, max: 3 }),
  duration: fc.integer({ min: 20, max: 400 }),
  replies: fc.constant(true),
});

/** Quorum: replies lost to one client and short pauses, and nothing else (no data lost). */
const quorumCuts: fc.Arbitrary<Schedule> = fc.record({
  ...quorumBase,
  faults: fc.array(fc.oneof(replyCut, shortPause), { minLength: 2, maxLength: 6 }),
});

/** Quorum: replies lost to one client (cuts of the replies only) and short pauses. */
const quorumLostReplies: fc.Arbitrary<Schedule> = fc.record({
  ...quorumBase,
  faults: fc.array(fc.oneof(replyCut, shortPause, nodeFault), { minLength: 2, maxLength: 6 }),
});

/** One owner per key: a node added that dies while the clients apply its addition. */
const addDies: fc.Arbitrary<Schedule> = fc
  .record({ ...base, skews: agreeingSkews, ...addThatDiesFields })
  .map(addThatDies);

/** A change some clients apply late, near the end of the lag allowed. */
const lateLags = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: MAX_LAG - 60, max: MAX_LAG })),
  { minLength: 8, maxLength: 8 },
);
const lateChange = fc.oneof(
  fc.record({
    at: fc.integer({ min: 50, max: 1_500 }),
    type: fc.constant('add' as const),
    lags: lateLags,
  }),
  fc.record({
    at: fc.integer({ min: 50, max: 1_500 }),
    type: fc.constant('remove' as const),
    node,
    lags: lateLags,
  }),
);

/**
 * Clocks seconds apart and changes applied late by some clients: the keys that move are
 * granted on their old owner until the window ends, and on the new one (clock behind) after.
 */
const skewedChanges: fc.Arbitrary<Schedule> = fc.record({
  ...base,
  nodes: fc.integer({ min: 1, max: 4 }),
  skews: fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 9, maxLength: 9 }),
  faults: fc.array(lateChange, { minLength: 1, maxLength: 4 }),
});

/** A client with other settings started with the first ones, on a brand-new cluster. */
const rivalStart: fc.Arbitrary<Schedule> = fc.record({
  ...base,
  skews: agreeingSkews,
  rival: fc.record({
    after: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
    settings: fc.constantFrom('maxTtl' as const, 'vnodes' as const),
  }),
  faults: fc.array(shortPause, { maxLength: 2 }),
});

/**
 * A node in a crash loop: killed, back empty, killed again soon after, while a client is
 * stopped through its short second run (it meets the third run having missed the second).
 */
const crashLoop: fc.Arbitrary<Schedule> = fc
  .record({
    ...base,
    nodes: fc.integer({ min: 1, max: 4 }),
    skews: agreeingSkews,
    t: fc.integer({ min: 50, max: 1_000 }),
    victim: node,
    down: fc.integer({ min: 0, max: 500 }),
    run: fc.integer({ min: 20, max: 400 }),
    downAgain: fc.integer({ min: 0, max: 400 }),
    client: fc.nat({ max: 7 }),
    stallFrom: fc.integer({ min: 0, max: 500 }),
    stall: fc.integer({ min: 50, max: 900 }),
    rest: fc.array(nodeFault, { maxLength: 1 }),
  })
  .map(({ t, victim, down, run, downAgain, client, stallFrom, stall, rest, ...x }) => ({
    ...x,
    faults: [
      { at: t, type: 'kill' as const, node: victim, downFor: down },
      { at: t + down + run, type: 'kill' as const, node: victim, downFor: downAgain },
      { at: t + stallFrom, type: 'stall' as const, client, duration: stall },
      ...rest,
    ],
  }));

/** Quorum: a replica back empty while another of its sets hangs, clocks maybe seconds apart. */
const quorumRestartPause: fc.Arbitrary<Schedule> = fc
  .record({
    ...quorumBase,
    t: fc.integer({ min: 50, max: 1_300 }),
    restarted: node,
    empty: fc.oneof(
      fc.record({ type: fc.constant('restart' as const) }),
      fc.record({ type: fc.constant('kill' as const), downFor: fc.integer({ min: 0, max: 300 }) }),
    ),
    paused: node,
    gap: fc.integer({ min: -200, max: 400 }),
    duration: fc.integer({ min: 20, max: 900 }),
    rest: fc.array(fc.oneof(replyCut, shortPause), { maxLength: 2 }),
  })
  .map(({ t, restarted, empty, paused, gap, duration, rest, ...x }) => ({
    ...x,
    faults: [
      empty.type === 'restart'
        ? { at: t, type: 'restart' as const, node: restarted }
        : { at: t, type: 'kill' as const, node: restarted, downFor: empty.downFor },
      { at: Math.max(50, t + gap), type: 'pause' as const, node: paused, duration },
      ...rest,
    ],
  }));

/** A client whose start a hung node holds back, asked to add or remove a node meanwhile. */
const heldStartChange: fc.Arbitrary<Schedule> = fc.record({
  ...base,
  skews: agreeingSkews,
  faults: fc
    .tuple(
      fc.record({
        at: fc.integer({ min: 50, max: 1_300 }),
        type: fc.constant('late' as const),
        settings: fc.constant('same' as const),
        hangs: fc.record({
          node,
          duration: fc.integer({ min: 100, max: 1_200 }),
          change: fc.record({
            after: fc.integer({ min: 0, max: 300 }),
            type: fc.constantFrom('add' as const, 'remove' as const),
            lags: lateLags,
          }),
        }),
      }),
      fc.array(fc.oneof(nodeFault, changeFault), { maxLength: 2 }),
    )
    .map(([late, rest]) => [late, ...rest]),
});

/** The focused schedule shapes, by the name `pnpm sim --focus` takes. */
export const focuses: Readonly<Record<string, fc.Arbitrary<Schedule>>> = {
  'late-hung': lateHung,
  'late-settings': lateSettings,
  'two-restarts': twoRestarts,
  'short-pauses': shortPauses,
  'removed-hanging': removedHanging,
  'add-dies': addDies,
  'quorum-add-dies': quorumAddDies,
  'quorum-lost-replies': quorumLostReplies,
  'quorum-cuts': quorumCuts,
  'skewed-changes': skewedChanges,
  'rival-start': rivalStart,
  'crash-loop': crashLoop,
  'quorum-restart-pause': quorumRestartPause,
  'held-start-change': heldStartChange,
};
