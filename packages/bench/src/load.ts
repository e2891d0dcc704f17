import { LatencyHistogram, type LatencySummary } from './histogram.js';
import type { ContenderSession } from './contenders/types.js';

/** The shape of one load run (or one slice of it). */
export interface LoadOptions {
  /** How long to run, in ms (the run also stops at `operations`). */
  readonly duration: number;
  /** Stop after this many acquire+release pairs; `undefined` runs for `duration`. */
  readonly operations: number | undefined;
  /** Pairs in flight at once. */
  readonly concurrency: number;
  /** Distinct keys; `undefined` gives every pair a fresh key (no contention). */
  readonly keySpace: number | undefined;
  /** How long a holder keeps the lock before releasing, in ms (0 releases at once). */
  readonly hold: number;
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

/** Figures of a finished run. */
export interface LoadResult {
  /** Acquire+release pairs completed. */
  readonly pairs: number;
  /** Acquires that found the key held after every retry. */
  readonly failures: number;
  /** Acquires or releases that failed with an error. */
  readonly errors: number;
  /** The first error seen, for the report. */
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
  readonly pairsPerSecond: number;
  /** Latency of successful acquires, in µs. */
  readonly acquire: LatencySummary;
  /** Client CPU (user + system) per pair, in µs: the whole process, so run one contender at a time. */
  readonly cpuMicrosPerPair: number;
}

/**
 * What one contender has measured so far, over one or several slices of load: a run can be
 * cut into rounds that alternate between contenders, so that a machine that slows down for
 * a while slows every contender alike.
 */
export class LoadTally {
  readonly histogram = new LatencyHistogram();
  pairs = 0;
  failures = 0;
  errors = 0;
  firstError: string | undefined;
  elapsedMs = 0;
  cpuMicros = 0;

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
    };
  }
}

/**
 * Drives `session` with `concurrency` workers that each acquire a key, hold it, release it
 * and start over, until `duration` or `operations` runs out, and adds what it measured to
 * `tally`. Bounded in time and count.
 */
export async function runLoad(
  session: ContenderSession,
  options: LoadOptions,
  tally = new LoadTally(),
): Promise<LoadResult> {
  let started = 0;
  const pairsBefore = tally.pairs;
  const limit = options.operations ?? Number.POSITIVE_INFINITY;
  const begin = performance.now();
  const end = begin + options.duration;
  const cpuBefore = process.cpuUsage();
  const runId = Math.random().toString(36).slice(2, 8);
  const keyFor = (n: number): string =>
    options.keySpace === undefined ? `bench:${runId}:${n}` : `bench:hot:${n % options.keySpace}`;

  const progress = setInterval(() => {
    const elapsedMs = performance.now() - begin;
    const pairs = tally.pairs - pairsBefore;
    options.onProgress?.({
      elapsedMs,
      pairs,
      pairsPerSecond: (pairs * 1000) / elapsedMs,
      p99Micros: tally.histogram.at(99),
      failures: tally.failures,
      errors: tally.errors,
    });
  }, 1_000);
  progress.unref();

  const worker = async (): Promise<void> => {
    while (started < limit && performance.now() < end && options.signal?.aborted !== true) {
      const n = started++;
      const t0 = performance.now();
      try {
        const release = await session.acquire(keyFor(n));
        if (release === null) {
          tally.failures++;
          continue;
        }
        tally.histogram.record((performance.now() - t0) * 1000);
        if (options.hold > 0) await new Promise((resolve) => setTimeout(resolve, options.hold));
        await release();
        tally.pairs++;
      } catch (error) {
        tally.errors++;
        tally.firstError ??= (error as Error).message;
        // A failing node answers at once; a short pause keeps the loop from spinning.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    clearInterval(progress);
  }
  tally.elapsedMs += performance.now() - begin;
  const cpu = process.cpuUsage(cpuBefore);
  tally.cpuMicros += cpu.user + cpu.system;
  return tally.result();
}
