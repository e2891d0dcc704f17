import { describe, expect, it } from 'vitest';
import { concatRecords, type ContentionRecords } from '../src/contended/contention-log.js';
import { contentionFigures } from '../src/contended/handoff.js';

/** [key, start, grant (NaN: gave up), end] per acquire. */
type Row = readonly [number, number, number, number];

function records(rows: readonly Row[]): ContentionRecords {
  return {
    keys: Int32Array.from(rows.map((r) => r[0])),
    starts: Float64Array.from(rows.map((r) => r[1])),
    grants: Float64Array.from(rows.map((r) => r[2])),
    ends: Float64Array.from(rows.map((r) => r[3])),
  };
}

const WINDOW = { start: 0, end: 100 };

describe('handoff gaps from acquire records', () => {
  it('measures release to next grant when someone waited at the release', () => {
    const figures = contentionFigures(
      records([
        [0, 0, 0, 10], // holds key 0 from 0 to 10
        [0, 5, 11.5, 20], // waited from 5: gap 1.5
        [0, 12, 20.25, 30], // waited from 12: gap 0.25
      ]),
      WINDOW,
      1,
    );
    expect([...figures.gaps]).toEqual([1.5, 0.25]);
    expect(figures.grants).toBe(3);
    expect(figures.heldMs).toBe(10 + 8.5 + 9.75);
    expect(figures.utilisation).toBeCloseTo(28.25 / 100);
  });

  it('counts no gap when nobody waited at the release', () => {
    const figures = contentionFigures(
      records([
        [0, 0, 0, 10],
        [0, 40, 40.1, 50], // came after the key was free
      ]),
      WINDOW,
      1,
    );
    expect(figures.gaps).toHaveLength(0);
  });

  it('keeps keys apart: a waiter of one key makes no gap on another', () => {
    const figures = contentionFigures(
      records([
        [0, 0, 0, 10],
        [1, 5, 5, 30], // key 1, free at once; still holding at key 0's release
        [1, 6, 31, 40], // waits for key 1: gap 1 after key 1's release at 30
      ]),
      WINDOW,
      2,
    );
    expect([...figures.gaps]).toEqual([1]);
  });

  it('merges the logs of several processes', () => {
    const a = records([[3, 0, 0, 10]]);
    const b = records([[3, 2, 12, 15]]);
    const figures = contentionFigures(concatRecords([a, b]), WINDOW, 64);
    expect([...figures.gaps]).toEqual([2]);
    expect(figures.utilisation).toBeCloseTo(13 / (64 * 100));
  });

  it('skips a release whose waiter gave up before any later grant', () => {
    const figures = contentionFigures(
      records([
        [0, 0, 0, 10],
        [0, 1, Number.NaN, 50], // waited, timed out at 50, nobody granted after
      ]),
      WINDOW,
      1,
    );
    expect(figures.gaps).toHaveLength(0);
    expect(figures.allGrants).toBe(1);
  });

  it('counts grants and holds only inside the window, gaps only for releases in it', () => {
    const figures = contentionFigures(
      records([
        [0, 90, 90, 110], // held across the end: 10 ms inside
        [0, 95, 111, 120], // its release at 110 is outside: no gap
      ]),
      WINDOW,
      1,
    );
    expect(figures.grants).toBe(1);
    expect(figures.allGrants).toBe(2);
    expect(figures.heldMs).toBe(10);
    expect(figures.holdSumMs).toBe(29);
    expect(figures.gaps).toHaveLength(0);
  });
});
