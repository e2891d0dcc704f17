import fc from 'fast-check';
import { DEFAULT_CLIENT_OPTIONS, quarantineOf } from '@shardlock/core/internal';

/** A fault the world injects at virtual time `at` (ms). Node and client numbers wrap around. */
export type Fault =
  /**
   * kill -9, then a restart with an empty dataset `downFor` ms later; with `lateAfter`, a
   * client starts that long after the restart (one that never saw the node's earlier run).
   */
  | {
      readonly at: number;
      readonly type: 'kill';
      readonly node: number;
      readonly downFor: number;
      readonly lateAfter?: number;
    }
  /**
   * An empty restart on the same address, as fast as the harness can make one. With
   * `lateAt`, it comes `lateAt` ms before a second turns on the server's clock, and a client
   * starts just after: the new run already reports 1 s of uptime (INFO counts second
   * boundaries), before the other clients have met it.
   */
  | {
      readonly at: number;
      readonly type: 'restart';
      readonly node: number;
      readonly lateAt?: number;
    }
  /** SIGSTOP for `duration` ms. */
  | {
      readonly at: number;
      readonly type: 'pause';
      readonly node: number;
      readonly duration: number;
    }
  /**
   * A new node; client `i` applies it `lags[i]` ms later. Client `twice` (an operator's
   * script that retries too soon) calls `addNode` twice at once: one call must join it. With
   * `back`, the node is one removed earlier, restarted empty under its old id (its clients
   * wait out a quarantine before they trust it). With `dies`, it is killed that long into the
   * change and restarted empty `downFor` later; with `hangs`, it is stopped (SIGSTOP) that long
   * into the change for `duration`.
   */
  | {
      readonly at: number;
      readonly type: 'add';
      readonly lags: readonly number[];
      readonly twice?: number;
      readonly back?: boolean;
      readonly dies?: { readonly after: number; readonly downFor: number };
      readonly hangs?: { readonly after: number; readonly duration: number };
    }
  /** A node taken out; client `i` applies it `lags[i]` ms later. */
  | {
      readonly at: number;
      readonly type: 'remove';
      readonly node: number;
      readonly lags: readonly number[];
    }
  /** A client process stopped (SIGSTOP) for `duration` ms. */
  | {
      readonly at: number;
      readonly type: 'stall';
      readonly client: number;
      readonly duration: number;
    }
  /**
   * The node's eviction policy becomes `allkeys-lru` and client `client`'s connections to it
   * drop: that client refuses the node from now on, the others keep using it until they meet
   * it again.
   */
  | { readonly at: number; readonly type: 'evict'; readonly node: number; readonly client: number }
  /**
   * Client `client` alone loses its links to `nodes` nodes (picked from `node` on) for
   * `duration` ms, both ways or only the replies; what was sent meanwhile arrives when the
   * cut heals. Quorum schedules only: one owner per key promises nothing under partitions.
   */
  | {
      readonly at: number;
      readonly type: 'cut';
      readonly client: number;
      readonly node: number;
      readonly nodes: number;
      readonly duration: number;
      readonly replies: boolean;
    }
  /**
   * A client that starts now, with the operator's current node list; maybe other settings.
   * With `hangs`, node `hangs.node` is stopped (SIGSTOP) for `hangs.duration` ms as it starts:
   * its start waits for the node, and `hangs.change.after` ms later the operator adds a node
   * (or removes the next one), asking it of the waiting process too.
   */
  | {
      readonly at: number;
      readonly type: 'late';
      readonly settings: 'same' | 'maxTtl' | 'vnodes';
      readonly hangs?: {
        readonly node: number;
        readonly duration: number;
        readonly change?: {
          readonly after: number;
          readonly type: 'add' | 'remove';
          readonly lags: readonly number[];
        };
      };
    };

/** Everything a simulated run depends on: the same schedule replays the same run. */
export interface Schedule {
  /** Seeds every random choice of the world: latencies, jitter, the workload. */
  readonly seed: number;
  readonly nodes: number;
  readonly clients: number;
  readonly workers: number;
  /**
   * Each server's clock offset, ms (added nodes take the next ones). Large skews run with
   * membership changes only: a failover's fences still assume clocks that agree within the
   * quarantine (docs/safety.md).
   */
  readonly skews: readonly number[];
  readonly faults: readonly Fault[];
  /**
   * How much slower than the base the world runs: every time of the schedule, and the
   * client's timings, are multiplied by it. At 6 the quarantine is longer than a second, so a
   * server's age (whole seconds in INFO) can tell a young run from an old one.
   */
  readonly scale?: number;
  /** Replicas per key (quorum mode at 3); one owner per key when absent. */
  readonly replicas?: 1 | 3;
  /**
   * A client with other settings started `after` ms after the first ones, on the brand-new
   * cluster: whichever records its settings first is the cluster's, and clients of the two
   * settings are never both granted (docs/safety.md, settings). Focused schedules only.
   */
  readonly rival?: { readonly after: number; readonly settings: 'maxTtl' | 'vnodes' };
}

/** The timing simulated clients use at scale 1 (ms); the bounds in docs/safety.md follow. */
const BASE_TIMING = {
  maxTtl: 200,
  commandTimeout: 50,
  healthCheckInterval: 50,
  failureThreshold: 2,
  vnodes: 64,
} as const;

/** The client timings of a world at `scale`. */
export function timingOf(scale: number): {
  maxTtl: number;
  commandTimeout: number;
  healthCheckInterval: number;
  failureThreshold: number;
  vnodes: number;
} {
  return {
    ...BASE_TIMING,
    maxTtl: BASE_TIMING.maxTtl * scale,
    commandTimeout: BASE_TIMING.commandTimeout * scale,
    healthCheckInterval: BASE_TIMING.healthCheckInterval * scale,
  };
}

/** How long a world runs with faults and traffic, virtual ms at scale 1. */
export const SIM_DURATION = 2_000;

const QUARANTINE = quarantineOf({
  maxTtl: BASE_TIMING.maxTtl,
  driftFactor: DEFAULT_CLIENT_OPTIONS.driftFactor,
});
/** handoffWindow − quarantine: the lag the guarantees allow between clients applying a change. */
export const MAX_LAG = Math.floor(2 * BASE_TIMING.maxTtl - QUARANTINE);

const at = fc.integer({ min: 50, max: 1_500 });
export const node = fc.nat({ max: 7 });
const lags = fc.array(fc.integer({ min: 0, max: MAX_LAG }), { minLength: 8, maxLength: 8 });

export const nodeFault = fc.oneof(
  fc.record(
    {
      at,
      type: fc.constant('kill' as const),
      node,
      downFor: fc.integer({ min: 0, max: 800 }),
      lateAfter: fc.integer({ min: 0, max: 300 }),
    },
    { requiredKeys: ['at', 'type', 'node', 'downFor'] },
  ),
  fc.record(
    { at, type: fc.constant('restart' as const), node, lateAt: fc.integer({ min: 1, max: 40 }) },
    { requiredKeys: ['at', 'type', 'node'] },
  ),
  fc.record({ at, type: fc.constant('evict' as const), node, client: fc.nat({ max: 7 }) }),
  fc.record({
    at,
    type: fc.constant('pause' as const),
    node,
    duration: fc.integer({ min: 20, max: 900 }),
  }),
);
/**
 * Membership changes, process stalls and late starts. `hang` draws how long a node hangs
 * during a change, `startHang` as a process starts (long enough, at times, for a change to
 * be applied everywhere before the start): with clocks seconds apart, never long enough to
 * fail a node over.
 */
const changeFaults = (
  hang: fc.Arbitrary<number>,
  startHang: fc.Arbitrary<number>,
): fc.Arbitrary<Fault> =>
  fc.oneof(
    fc.record(
      {
        at,
        type: fc.constant('add' as const),
        lags,
        twice: fc.nat({ max: 7 }),
        back: fc.constant(true),
        dies: fc.record({
          after: fc.integer({ min: 0, max: 300 }),
          downFor: fc.integer({ min: 0, max: 2_000 }),
        }),
        hangs: fc.record({
          after: fc.integer({ min: 0, max: 400 }),
          duration: hang,
        }),
      },
      { requiredKeys: ['at', 'type', 'lags'] },
    ),
    fc.record({ at, type: fc.constant('remove' as const), node, lags }),
    fc.record({
      at,
      type: fc.constant('stall' as const),
      client: fc.nat({ max: 7 }),
      duration: fc.integer({ min: 20, max: 600 }),
    }),
    fc.record(
      {
        at,
        type: fc.constant('late' as const),
        settings: fc.constantFrom(
          'same' as const,
          'same' as const,
          'maxTtl' as const,
          'vnodes' as const,
        ),
        hangs: fc.record({
          node,
          duration: startHang,
          change: fc.record({
            after: fc.integer({ min: 0, max: 300 }),
            type: fc.constantFrom('add' as const, 'remove' as const),
            lags,
          }),
        }),
      },
      { requiredKeys: ['at', 'type', 'settings'] },
    ),
  );
// Pauses shorter than the quarantine never fail a node over: they may run with any skew.
const shortHang = fc.integer({ min: 20, max: Math.floor(QUARANTINE / 2) });
const shortPause = fc.record({
  at,
  type: fc.constant('pause' as const),
  node,
  duration: shortHang,
});
export const changeFault = changeFaults(
  fc.integer({ min: 20, max: 900 }),
  fc.integer({ min: 20, max: 1_200 }),
);

export const base = {
  seed: fc.integer(),
  scale: fc.constantFrom(1, 1, 1, 6),
  // One or two nodes now and then: a client may then see every node fail over at once.
  nodes: fc.oneof(
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) },
    { weight: 3, arbitrary: fc.integer({ min: 3, max: 5 }) },
  ),
  clients: fc.integer({ min: 2, max: 3 }),
  workers: fc.integer({ min: 2, max: 3 }),
};

/** Clocks within a few ms of each other, and every fault. */
const agreeing: fc.Arbitrary<Schedule> = fc.record({
  ...base,
  skews: fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 9, maxLength: 9 }),
  faults: fc.array(fc.oneof(nodeFault, changeFault), { maxLength: 5 }),
});

/** Clocks seconds apart (far more than the quarantine), with the faults that move no key by failover. */
const skewed: fc.Arbitrary<Schedule> = fc.record({
  ...base,
  skews: fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 9, maxLength: 9 }),
  faults: fc.array(fc.oneof(changeFaults(shortHang, shortHang), shortPause), { maxLength: 5 }),
});

/**
 * Quorum mode (3 replicas per key): every fault, with clocks that agree or are seconds apart,
 * for its fences assume nothing of the clocks (docs/safety.md, quorum).
 */
const cut = fc.record({
  at,
  type: fc.constant('cut' as const),
  client: fc.nat(8),
  node,
  nodes: fc.integer({ min: 1, max: 3 }),
  duration: fc.integer({ min: 20, max: 2 * QUARANTINE }),
  replies: fc.boolean(),
});

export const quorumSchedules: fc.Arbitrary<Schedule> = fc.record({
  ...base,
  // Each key needs three distinct nodes.
  nodes: fc.integer({ min: 3, max: 5 }),
  replicas: fc.constant(3 as const),
  skews: fc.oneof(
    fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 9, maxLength: 9 }),
    fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 9, maxLength: 9 }),
  ),
  faults: fc.array(fc.oneof(nodeFault, changeFault, cut), { maxLength: 5 }),
});

/** Schedules of both kinds, mostly with agreeing clocks. */
export const schedules: fc.Arbitrary<Schedule> = fc.oneof(
  { weight: 3, arbitrary: agreeing },
  { weight: 1, arbitrary: skewed },
);
