// What a bench run collects: its tables, its verdicts against the targets, and a sink
// for the results of timed calls.
import type { TableRow } from '../report.js';

/** The targets of the issue "ring must show". */
export const TARGET = Object.freeze({
  /** Largest node share over the fair share, 10 nodes. */
  balance10: 1.05,
  /** Largest node share over the fair share, 100 nodes. */
  balance100: 1.1,
  /** The share of an 11th node over its fair share 1/11, which bounds the keys that move. */
  addOverFair: 1.05,
  /** `owner()` lookups per second over uncached `hashring.get()` lookups per second. */
  speedup: 8,
  /** `owners(key, 3)` lookups per second over `owner()` lookups per second. */
  owners3: 0.5,
});

/** One table of the report, with the notes printed under it. */
export interface Section {
  readonly title: string;
  readonly rows: TableRow[];
  readonly notes: string[];
}

/** `PASS` or `FAIL`. */
export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** The sections and target verdicts of one run, in the order they were measured. */
export class BenchResults {
  readonly sections: Section[] = [];
  readonly targets: TableRow[] = [];
  #sink = 0;

  /** Appends a table to the report. */
  section(title: string, rows: TableRow[], notes: string[] = []): void {
    this.sections.push({ title, rows, notes });
  }

  /** Records a target of the issue for the summary table; returns its verdict. */
  target(name: string, measured: string, limit: string, ok: boolean): string {
    this.targets.push({ target: name, measured, limit, verdict: verdict(ok) });
    return verdict(ok);
  }

  /** Folds in a timed call's result, so that the call cannot be optimized away. */
  keep(value: number): void {
    this.#sink += value;
  }

  /**
   * Reads the sink, which is what keeps the folded values alive.
   * @throws Error when a timed call returned something other than a number
   */
  checkSink(): void {
    if (Number.isNaN(this.#sink)) throw new Error('a timed call returned no number');
  }
}
