import { build, decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { ClientMetrics } from '../src/metrics.js';

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ClientMetrics histograms', () => {
  it.each([1, 2, 3])(
    'give the percentiles hdr-histogram-js gives for the same values (seed %i)',
    (seed) => {
      const next = random(seed);
      const metrics = new ClientMetrics();
      const direct = build({
        lowestDiscernibleValue: 1,
        highestTrackableValue: 3_600_000_000,
        numberOfSignificantValueDigits: 2,
        autoResize: false,
      });
      for (let i = 0; i < 5_000; i++) {
        // Waits from sub-µs to an hour, log-spread, as a lock's wait can be.
        const ms = 10 ** (next() * 9.6 - 3.5);
        metrics.granted(ms);
        direct.recordValue(Math.min(3_600_000_000, Math.max(1, Math.round(ms * 1000))));
      }
      const wait = metrics.snapshot().acquireWait;
      for (const [p, value] of [
        [50, wait.p50],
        [90, wait.p90],
        [99, wait.p99],
        [99.9, wait.p999],
      ] as const) {
        expect(value).toBe(direct.getValueAtPercentile(p));
      }
      expect([wait.count, wait.max, wait.min]).toEqual([
        direct.totalCount,
        direct.maxValue,
        direct.minNonZeroValue,
      ]);
      expect(wait.mean).toBeCloseTo(direct.mean, 6);
      const decoded = decodeFromCompressedBase64(wait.encoded);
      expect(decoded.getValueAtPercentile(99)).toBe(direct.getValueAtPercentile(99));
    },
  );

  it('count grants, contention, timeouts, losses and batches per node', () => {
    const metrics = new ClientMetrics();
    metrics.granted(1);
    metrics.granted(2, 3);
    metrics.contended();
    metrics.timedOut();
    metrics.lost();
    metrics.released(5);
    metrics.batch('a', 10, 0.4, false);
    metrics.batch('a', 3, 0.2, true);
    const m = metrics.snapshot();
    expect([m.grants, m.contendedAttempts, m.timeouts, m.lostLocks]).toEqual([4, 1, 1, 1]);
    expect([m.acquireWait.count, m.holdTime.count]).toEqual([2, 1]);
    expect(m.nodes.a).toMatchObject({ batches: 2, ops: 13, failedBatches: 1 });
    expect(m.nodes.a?.batchSize.max).toBe(10);
    expect(m.nodes.a?.roundTrip.count).toBe(2);
  });
});
