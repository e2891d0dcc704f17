import { sentCommands } from './sent-commands.js';
import { ContentionLog, type ContentionRecords } from './contended/contention-log.js';
import { HoldTimer } from './contended/hold-timer.js';
import { keyChooser } from './contended/key-chooser.js';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import type { ContenderSession } from './contenders/types.js';
import { pause } from './contenders/connection.js';

/** The shape of one load run (or one slice of it), as one process drives it. */
export interface LoadOptions {
  /** How long to run, in ms (the run also stops at `operations`). */
  readonly duration: number;
  /** Stop after this many acquire+release pairs; `undefined` runs for `duration`. */
  readonly operations: number | undefined;
  /** Pairs in flight at once. */
  readonly concurrency: number;
  /** Hot keys; `undefined` gives every pair a fresh key (no contention). */
  readonly keySpace: number | undefined;
  /** Zipf exponent of the hot key choice; 0 chooses uniformly. */
  readonly zipf: number;
  /** How long a holder keeps the lock before releasing, in ms (0 releases at once). */
  readonly hold: number;
  /** Seeds each worker's key choice (worker `w` uses `seed × 65,537 + w`). */
  readonly seed: number;
  /** Base instant of the contention log's time line (`process.hrtime.bigint()`), shared by the processes of a run. */
  readonly base: bigint;
  /** Ends the run early (Ctrl-C); what was measured so far is kept. */
  readonly signal?: AbortSignal;
  /** Called about once a second with figures so far. */
  readonly onProgress?: (progress: LoadProgress) => void;
}

/** Figures of a run so far. */
export interface LoadProgress {
  readonly elapsedMs: number;
  readonly pairs: number;
  readonly pairsPerSecond: number;
  readonly p99Micros: number;
  readonly failures: number;
  readonly errors: number;
}

/** What one process measured in one slice; plain data, so a child sends it over IPC. */
export interface SliceResult {
  readonly pairs: number;
  readonly failures: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
  /** CPU (user + system) of the whole process over the slice, in µs. */
  readonly cpuMicros: number;
  /** Commands the process sent to Redis over the slice (`sent-commands.ts`). */
  readonly commandsSent: number;
  /** Acquire latencies, {@link LatencyHistogram.encode}d. */
  readonly histogram: string;
  /** Every acquire of a contended run (`keySpace` given); `undefined` for fresh keys. */
  readonly records: ContentionRecords | undefined;
  /** When this process started the slice, in ms on the log's time line (NaN for fresh keys). */
  readonly startedAt: number;
  /** When this process stopped starting acquires, in ms on the log's time line (NaN for fresh keys). */
  readonly stoppedAt: number;
}

/** Figures of a finished run. */
export interface LoadResult {
  /** Acquire+release pairs completed. */
  readonly pairs: number;
  /** Acquires that found the key held after every retry (or waited out the wait timeout). */
  readonly failures: number;
  /** Acquires or releases that failed with an error. */
  readonly errors: number;
  /** The first error seen, for the report. */
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
  readonly pairsPerSecond: number;
  /** Latency of successful acquires, in µs. */
  readonly acquire: LatencySummary;
  /** Client CPU (user + system) per pair, in µs: whole processes, so run one contender at a time. */
  readonly cpuMicrosPerPair: number;
  /** Pairs per second of client CPU: the load processes' CPU summed. */
  readonly pairsPerCpuSecond: number;
}

/**
 * What one contender has measured so far, over one or several slices of load, from one or
 * several processes: a run can be cut into rounds that alternate between contenders, so that
 * a machine that slows down for a while slows every contender alike.
 */
export class LoadTally {
  readonly histogram = new LatencyHistogram();
  pairs = 0;
  failures = 0;
  errors = 0;
  firstError: string | undefined;
  elapsedMs = 0;
  cpuMicros = 0;
  commandsSent = 0;

  /**
   * Adds one slice, run by every process of `parts` at once from a common start: counts and
   * CPU add up, histograms merge, and the slice lasted as long as its slowest process.
   */
  add(parts: readonly SliceResult[]): void {
    for (const part of parts) {
      this.pairs += part.pairs;
      this.failures += part.failures;
      this.errors += part.errors;
      this.firstError ??= part.firstError;
      this.cpuMicros += part.cpuMicros;
      this.commandsSent += part.commandsSent;
      this.histogram.addEncoded(part.histogram);
    }
    this.elapsedMs += Math.max(0, ...parts.map((part) => part.elapsedMs));
  }

  /** The figures so far. */
  result(): LoadResult {
    return {
      pairs: this.pairs,
      failures: this.failures,
      errors: this.errors,
      firstError: this.firstError,
      elapsedMs: this.elapsedMs,
      pairsPerSecond: this.elapsedMs === 0 ? 0 : (this.pairs * 1000) / this.elapsedMs,
      acquire: this.histogram.summary(),
      cpuMicrosPerPair: this.pairs === 0 ? 0 : this.cpuMicros / this.pairs,
      pairsPerCpuSecond: this.cpuMicros === 0 ? 0 : (this.pairs * 1e6) / this.cpuMicros,
    };
  }
}

/**
 * Drives `session` with `concurrency` workers that each acquire a key, hold it, release it
 * and start over, until `duration` or `operations` runs out. Bounded in time and count; an
 * acquire still waiting at the end is let finish (bounded by the contender's wait timeout).
 * With `keySpace`, each worker draws hot keys from its own seeded chooser and every acquire
 * is logged for the contended figures.
 */
export async function runLoad(
  session: ContenderSession,
  options: LoadOptions,
): Promise<SliceResult> {
  let started = 0;
  let pairs = 0;
  let failures = 0;
  let errors = 0;
  let firstError: string | undefined;
  const histogram = new LatencyHistogram();
  const limit = options.operations ?? Number.POSITIVE_INFINITY;
  const hotKeys = options.keySpace;
  const log = hotKeys === undefined ? undefined : new ContentionLog(options.base);
  const startedAt = log?.now() ?? Number.NaN;
  let stoppedAt = Number.NaN;
  const holds = new HoldTimer();
  const begin = performance.now();
  const end = begin + options.duration;
  const cpuBefore = process.cpuUsage();
  const sentBefore = sentCommands();
  const runId = Math.random().toString(36).slice(2, 8);

  const progress = setInterval(() => {
    const elapsedMs = performance.now() - begin;
    options.onProgress?.({
      elapsedMs,
      pairs,
      pairsPerSecond: (pairs * 1000) / elapsedMs,
      p99Micros: histogram.at(99),
      failures,
      errors,
    });
  }, 1_000);
  progress.unref();

  const going = (): boolean => {
    if (started < limit && performance.now() < end && options.signal?.aborted !== true) return true;
    if (log !== undefined && Number.isNaN(stoppedAt)) stoppedAt = log.now();
    return false;
  };
  const failed = async (error: unknown): Promise<void> => {
    errors++;
    firstError ??= (error as Error).message;
    // A failing node answers at once; a short pause keeps the loop from spinning.
    await pause(10);
  };

  // Fresh keys: the headline's loop, nothing logged, so it costs what it always did.
  const freshWorker = async (): Promise<void> => {
    while (going()) {
      const n = started++;
      const t0 = performance.now();
      try {
        const release = await session.acquire(`bench:${runId}:${n}`);
        if (release === null) {
          failures++;
          continue;
        }
        histogram.record((performance.now() - t0) * 1000);
        if (options.hold > 0) await holds.wait(options.hold);
        await release();
        pairs++;
      } catch (error) {
        await failed(error);
      }
    }
  };

  const hotWorker = async (worker: number): Promise<void> => {
    const choose = keyChooser(hotKeys!, options.zipf, options.seed * 65_537 + worker);
    const contention = log!;
    while (going()) {
      started++;
      const k = choose();
      const t0 = contention.now();
      try {
        const release = await session.acquire(`bench:hot:${k}`);
        if (release === null) {
          failures++;
          contention.add(k, t0, Number.NaN, contention.now());
          continue;
        }
        const granted = contention.now();
        histogram.record((granted - t0) * 1000);
        if (options.hold > 0) await holds.wait(options.hold);
        contention.add(k, t0, granted, contention.now());
        await release();
        pairs++;
      } catch (error) {
        await failed(error);
      }
    }
  };

  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, (_, w) =>
        hotKeys === undefined ? freshWorker() : hotWorker(w),
      ),
    );
  } finally {
    clearInterval(progress);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    pairs,
    failures,
    errors,
    firstError,
    elapsedMs: performance.now() - begin,
    cpuMicros: cpu.user + cpu.system,
    commandsSent: sentCommands() - sentBefore,
    histogram: histogram.encode(),
    records: log?.records(),
    startedAt,
    stoppedAt,
  };
}
