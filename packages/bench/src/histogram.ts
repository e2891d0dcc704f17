import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';

/** Latency percentiles of a run, in microseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
  readonly count: number;
}

/**
 * An HDR histogram of latencies in microseconds, from 1 µs to 60 s at 3 significant
 * digits: constant memory, whatever the number of samples.
 */
export class LatencyHistogram {
  readonly #histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });

  /** Records one latency, in microseconds (clamped into the histogram's range). */
  record(micros: number): void {
    this.#histogram.recordValue(Math.min(60_000_000, Math.max(1, Math.round(micros))));
  }

  /** How many latencies were recorded. */
  get count(): number {
    return this.#histogram.totalCount;
  }

  /** The value at `percentile` (0–100), in microseconds. */
  at(percentile: number): number {
    return this.#histogram.getValueAtPercentile(percentile);
  }

  /** Percentiles, mean and max. */
  summary(): LatencySummary {
    const h = this.#histogram;
    return {
      p50: h.getValueAtPercentile(50),
      p99: h.getValueAtPercentile(99),
      p999: h.getValueAtPercentile(99.9),
      max: h.maxValue,
      mean: h.mean,
      count: h.totalCount,
    };
  }

  /** The value at each of `percentiles` (0–100), in microseconds, for a distribution chart. */
  percentiles(percentiles: readonly number[]): [percentile: number, micros: number][] {
    return percentiles.map((p) => [p, this.#histogram.getValueAtPercentile(p)]);
  }

  /** The histogram as compressed base64 (HdrHistogram's V2 encoding), to send to another process. */
  encode(): string {
    return encodeIntoCompressedBase64(this.#histogram);
  }

  /** Adds every latency of another process's histogram, as {@link LatencyHistogram.encode} wrote it. */
  addEncoded(text: string): void {
    this.#histogram.add(decodeFromCompressedBase64(text));
  }

  /** Frees the histogram's memory (a no-op for the JS implementation). */
  destroy(): void {
    this.#histogram.destroy();
  }
}
