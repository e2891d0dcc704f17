import type { ContentionRecords } from './contention-log.js';

/** The measured stretch of a contended run, in ms on the records' time line. */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** What the acquire records of a contended run say about its hot keys (waits and timeouts are the load tally's). */
export interface ContentionFigures {
  /** Grants inside the window. */
  readonly grants: number;
  /** Every grant of the records, also after the window (acquires let finish at the end). */
  readonly allGrants: number;
  /** Sum of every hold interval (grant to release call), whole, in ms. */
  readonly holdSumMs: number;
  /** Sum of the hold intervals (grant to release call) inside the window, in ms. */
  readonly heldMs: number;
  /** Share of the window the hot keys were held: `heldMs / (keys × window)`, 0 to 1. */
  readonly utilisation: number;
  /**
   * Handoff gaps in ms: from a release call inside the window to the next grant of the same
   * key, counted only when another acquire of that key was waiting at the release.
   */
  readonly gaps: Float64Array;
}

// Event kinds, in the order they are taken at one instant: someone who starts waiting at the
// very moment of a release was waiting at it; someone granted at that moment was not.
const WAIT_END = 0;
const WAIT_START = 1;
const RELEASE = 2;

/**
 * Reads the merged records of every process of a run: grants, utilisation and handoff gaps. A key's hold is from the grant to the holder's release call, and a gap
 * from that release call to the next grant of the key, so a gap includes the release's round
 * trip: it is how long the key sat unused while someone wanted it.
 * @param keys - the number of hot keys (`--keys`), used or not
 */
export function contentionFigures(
  records: ContentionRecords,
  window: Window,
  keys: number,
): ContentionFigures {
  const inWindow = (t: number): boolean => t >= window.start && t < window.end;
  let grants = 0;
  let allGrants = 0;
  let heldMs = 0;
  let holdSumMs = 0;
  const n = records.keys.length;
  const byKey = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const grant = records.grants[i]!;
    const end = records.ends[i]!;
    const granted = !Number.isNaN(grant);
    if (granted) {
      allGrants++;
      holdSumMs += end - grant;
      if (inWindow(grant)) grants++;
      heldMs += Math.max(0, Math.min(end, window.end) - Math.max(grant, window.start));
    }
    const key = records.keys[i]!;
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [i]);
    else list.push(i);
  }
  const gaps: number[] = [];
  for (const indexes of byKey.values()) keyGaps(records, indexes, window, gaps);
  const span = Math.max(0, window.end - window.start);
  return {
    grants,
    allGrants,
    holdSumMs,
    heldMs,
    utilisation: span === 0 || keys === 0 ? 0 : heldMs / (keys * span),
    gaps: Float64Array.from(gaps),
  };
}

/** Appends to `out` the gaps of one key, whose records are `indexes`. */
function keyGaps(
  records: ContentionRecords,
  indexes: readonly number[],
  window: Window,
  out: number[],
): void {
  const events: [time: number, kind: number][] = [];
  const grantTimes: number[] = [];
  for (const i of indexes) {
    const grant = records.grants[i]!;
    const granted = !Number.isNaN(grant);
    events.push([records.starts[i]!, WAIT_START]);
    // A wait ends at its grant, or when the acquire gave up.
    events.push([granted ? grant : records.ends[i]!, WAIT_END]);
    if (granted) {
      grantTimes.push(grant);
      events.push([records.ends[i]!, RELEASE]);
    }
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  grantTimes.sort((a, b) => a - b);
  let waiting = 0;
  let next = 0;
  for (const [time, kind] of events) {
    if (kind === WAIT_START) waiting++;
    else if (kind === WAIT_END) waiting--;
    else if (waiting > 0 && time >= window.start && time < window.end) {
      while (next < grantTimes.length && grantTimes[next]! < time) next++;
      // No later grant: the waiters gave up or the run ended; no handoff to measure.
      if (next < grantTimes.length) out.push(grantTimes[next]! - time);
    }
  }
}
