import { LatencyHistogram, type LatencySummary } from '../histogram.js';
import type { ContentionFigures, Window } from './handoff.js';

/** Percentiles the handoff-gap chart plots. */
export const GAP_PERCENTILES: readonly number[] = [
  1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.9,
];

/** A contender's contended figures over a whole run (every slice, every process). */
export interface ContendedResult {
  /** Grants inside the measured windows. */
  readonly grants: number;
  readonly grantsPerSecond: number;
  /** `keys × 1000 / hold`: every hot key held all the time, handed over in no time; `null` at hold 0. */
  readonly idealGrantsPerSecond: number | null;
  /** grants/s over the ideal, 0 to 1; `null` at hold 0. */
  readonly ofIdeal: number | null;
  /** Measured mean hold (grant to release call), in ms: `--hold` or a little more (hold-timer.ts). */
  readonly holdMeanMs: number;
  /** Share of the time the hot keys were held: hold intervals over keys × elapsed, 0 to 1. */
  readonly utilisation: number;
  /** Release call to the next grant of the key, when someone was waiting; µs. */
  readonly handoffGapMicros: LatencySummary;
  /** The gap distribution: [percentile, µs] at {@link GAP_PERCENTILES}. */
  readonly handoffGapPercentiles: readonly (readonly [number, number])[];
}

/** Adds up the contended figures of a contender's slices. */
export class ContendedTally {
  readonly #keys: number;
  readonly #holdMs: number;
  readonly #gaps = new LatencyHistogram();
  #grants = 0;
  #heldMs = 0;
  #windowMs = 0;
  #holdSumMs = 0;
  /** Every grant of every slice, also those after the window (for commands per grant). */
  allGrants = 0;

  constructor(keys: number, holdMs: number) {
    this.#keys = keys;
    this.#holdMs = holdMs;
  }

  /** Adds one slice's figures, measured over `window`. */
  add(figures: ContentionFigures, window: Window): void {
    this.#grants += figures.grants;
    this.#heldMs += figures.heldMs;
    this.#windowMs += Math.max(0, window.end - window.start);
    this.allGrants += figures.allGrants;
    this.#holdSumMs += figures.holdSumMs;
    for (const gap of figures.gaps) this.#gaps.record(gap * 1000);
  }

  /** The figures so far. */
  result(): ContendedResult {
    const seconds = this.#windowMs / 1000;
    const grantsPerSecond = seconds === 0 ? 0 : this.#grants / seconds;
    const ideal = this.#holdMs === 0 ? null : (this.#keys * 1000) / this.#holdMs;
    return {
      grants: this.#grants,
      grantsPerSecond: Math.round(grantsPerSecond),
      idealGrantsPerSecond: ideal,
      ofIdeal: ideal === null ? null : round(grantsPerSecond / ideal, 4),
      holdMeanMs: this.allGrants === 0 ? 0 : round(this.#holdSumMs / this.allGrants, 3),
      utilisation:
        this.#windowMs === 0 ? 0 : round(this.#heldMs / (this.#keys * this.#windowMs), 4),
      handoffGapMicros: this.#gaps.summary(),
      handoffGapPercentiles: this.#gaps.count === 0 ? [] : this.#gaps.percentiles(GAP_PERCENTILES),
    };
  }
}

function round(value: number, digits: number): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}
