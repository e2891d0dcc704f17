import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/** Percentiles of one HDR histogram, and the histogram itself for merging elsewhere. */
export interface HistogramSnapshot {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /**
   * The whole histogram in the HdrHistogram compressed base64 format, which every HDR
   * implementation decodes (`hdr-histogram-js`: `decodeFromCompressedBase64`), to merge
   * snapshots of several processes or compute other percentiles.
   */
  readonly encoded: string;
}

/** One node's figures since the client started. */
export interface NodeMetrics {
  /** Batch script calls sent. */
  readonly batches: number;
  /** Ops those calls carried. */
  readonly ops: number;
  /** Calls that failed (timeout, lost connection): their ops failed too. */
  readonly failedBatches: number;
  /** Ops per call. */
  readonly batchSize: HistogramSnapshot;
  /** Round trip of a call, in µs, from its send to its reply. */
  readonly roundTrip: HistogramSnapshot;
}

/** What {@link LockClient.metrics} returns: counters and histograms since the client started. */
export interface MetricsSnapshot {
  /** Locks granted by `acquire`, `tryAcquire`, `withLock` and `acquireMany` (each key). */
  readonly grants: number;
  /** Attempts that found the key held by another owner (each one a retry or a give-up). */
  readonly contendedAttempts: number;
  /** Calls that gave up with `LockTimeoutError`. */
  readonly timeouts: number;
  /** Locks found lost while believed held (the `lockLost` event). */
  readonly lostLocks: number;
  /** Time from a call's start to its grant, in µs: the wait a lock cost its caller. */
  readonly acquireWait: HistogramSnapshot;
  /** Time from a grant's request to its release, in µs. */
  readonly holdTime: HistogramSnapshot;
  /** Per node id. */
  readonly nodes: Readonly<Record<string, NodeMetrics>>;
}

// µs from 1 to one hour at 2 significant digits.
const MAX_MICROS = 3_600_000_000;
const DIGITS = 2;

/**
 * A recorder with hdr-histogram-js' exact bucketing (2 significant digits, lowest value 1)
 * that records in a few nanoseconds: `recordValue` of the library takes ~150 ns, which on
 * the hot path (two records a lock) was 3 % of a pair's CPU. Its counts become a real HDR
 * histogram only when a snapshot is taken, value by value into the same buckets, so
 * percentiles and the encoding are the library's.
 */
class Recorder {
  // HDR's layout for 2 digits: 256 sub-buckets, the lower half of each bucket after the first
  // shared with the one below.
  static readonly #HALF_MAGNITUDE = 7;
  static readonly #HALF = 1 << Recorder.#HALF_MAGNITUDE;
  static readonly #MASK = 2 * Recorder.#HALF - 1;
  readonly #highest: number;
  readonly #counts: Float64Array;
  /** Exact extremes, as the library keeps them (buckets only know a range). */
  min = Number.POSITIVE_INFINITY;
  max = 0;

  constructor(highest = MAX_MICROS) {
    this.#highest = highest;
    this.#counts = new Float64Array(Recorder.#index(highest) + 1);
  }

  static #index(value: number): number {
    const bucket = 32 - Recorder.#HALF_MAGNITUDE - 1 - Math.clz32(value | Recorder.#MASK);
    const sub = value >>> bucket;
    return ((bucket + 1) << Recorder.#HALF_MAGNITUDE) + (sub - Recorder.#HALF);
  }

  static #valueAt(index: number): number {
    let bucket = (index >> Recorder.#HALF_MAGNITUDE) - 1;
    let sub = (index & (Recorder.#HALF - 1)) + Recorder.#HALF;
    if (bucket < 0) {
      sub -= Recorder.#HALF;
      bucket = 0;
    }
    return sub * 2 ** bucket;
  }

  record(value: number): void {
    const v = Math.min(this.#highest, Math.max(1, Math.round(value)));
    this.#counts[Recorder.#index(v)]!++;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
  }

  /** The counts as an hdr-histogram-js histogram. */
  histogram(): Histogram {
    const h = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: this.#highest,
      numberOfSignificantValueDigits: DIGITS,
      autoResize: false,
    });
    const counts = this.#counts;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i]! > 0) h.recordValueWithCount(Recorder.#valueAt(i), counts[i]!);
    }
    return h;
  }
}

function snapshotOf(recorder: Recorder): HistogramSnapshot {
  const h = recorder.histogram();
  return {
    count: h.totalCount,
    min: h.totalCount === 0 ? 0 : recorder.min,
    mean: h.mean,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: recorder.max,
    encoded: encodeIntoCompressedBase64(h),
  };
}

const MAX_BATCH_OPS = 100_000;

/** One node's recorders. */
class NodeRecorder {
  batches = 0;
  ops = 0;
  failedBatches = 0;
  readonly batchSize = new Recorder(MAX_BATCH_OPS);
  readonly roundTrip = new Recorder();

  snapshot(): NodeMetrics {
    return {
      batches: this.batches,
      ops: this.ops,
      failedBatches: this.failedBatches,
      batchSize: snapshotOf(this.batchSize),
      roundTrip: snapshotOf(this.roundTrip),
    };
  }
}

/**
 * A client's counters and HDR histograms (constant memory: ~26 KiB a histogram, four per node
 * and two more). Each record is a counter increment or one bucket's: a few nanoseconds.
 */
export class ClientMetrics {
  #grants = 0;
  #contended = 0;
  #timeouts = 0;
  #lost = 0;
  readonly #wait = new Recorder();
  readonly #hold = new Recorder();
  readonly #nodes = new Map<string, NodeRecorder>();

  /** `count` locks were granted after a wait of `waitMs`. */
  granted(waitMs: number, count = 1): void {
    this.#grants += count;
    this.#wait.record(waitMs * 1000);
  }

  /** An attempt found the key held. */
  contended(): void {
    this.#contended++;
  }

  /** A call gave up with `LockTimeoutError`. */
  timedOut(): void {
    this.#timeouts++;
  }

  /** A believed lock was found lost. */
  lost(): void {
    this.#lost++;
  }

  /** A lock requested `heldMs` ago was released. */
  released(heldMs: number): void {
    this.#hold.record(heldMs * 1000);
  }

  /** One batch call to `nodeId` of `size` ops came back (or failed) after `roundTripMs`. */
  batch(nodeId: string, size: number, roundTripMs: number, failed: boolean): void {
    let node = this.#nodes.get(nodeId);
    if (node === undefined) {
      node = new NodeRecorder();
      this.#nodes.set(nodeId, node);
    }
    node.batches++;
    node.ops += size;
    if (failed) node.failedBatches++;
    node.batchSize.record(size);
    node.roundTrip.record(roundTripMs * 1000);
  }

  /** The figures now; the recorders go on. */
  snapshot(): MetricsSnapshot {
    const nodes: Record<string, NodeMetrics> = {};
    for (const [id, node] of this.#nodes) nodes[id] = node.snapshot();
    return {
      grants: this.#grants,
      contendedAttempts: this.#contended,
      timeouts: this.#timeouts,
      lostLocks: this.#lost,
      acquireWait: snapshotOf(this.#wait),
      holdTime: snapshotOf(this.#hold),
      nodes,
    };
  }
}
