import { describe, expect, it } from 'vitest';
import { gapSvg } from '../src/gap-chart.js';
import { REPORT_SCHEMA, type BenchReport, type ContenderResult } from '../src/results.js';

const SUMMARY = { p50: 900, p99: 4_000, p999: 9_000, max: 12_000, mean: 1_200, count: 500 };

function result(contender: string, gaps: readonly (readonly [number, number])[]): ContenderResult {
  return {
    contender,
    description: contender,
    nodes: 5,
    nodesUsed: 5,
    pairs: 1_000,
    pairsPerSecond: 200,
    failures: 0,
    errors: 0,
    firstError: null,
    acquireMicros: SUMMARY,
    cpuMicrosPerPair: 50,
    pairsPerCpuSecond: 20_000,
    clients: 2,
    commandsPerGrant: 2.5,
    commands: { evalsha: 2_500 },
    contended: {
      grants: 1_000,
      grantsPerSecond: 200,
      idealGrantsPerSecond: 32_000,
      ofIdeal: 0.0063,
      holdMeanMs: 2.2,
      utilisation: 0.01,
      handoffGapMicros: SUMMARY,
      handoffGapPercentiles: gaps,
    },
    ratioToRaw: null,
  };
}

function report(results: readonly ContenderResult[]): BenchReport {
  return {
    schema: REPORT_SCHEMA,
    date: '2026-01-02T03:04:05.000Z',
    command: 'shardlock bench --keys 64',
    machine: { cpu: 'x', cores: 2, memoryGiB: 4, node: 'v20', platform: 'linux x64', redis: '7' },
    cluster: 'embedded',
    workload: {
      durationMs: 1_000,
      rounds: 1,
      operations: undefined,
      concurrency: 512,
      keySpace: 64,
      zipf: 0,
      clients: 2,
      waitTimeoutMs: 10_000,
      ttlMs: 10_000,
      holdMs: 2,
      retries: 0,
      retryDelayMs: 10,
    },
    results,
  };
}

describe('the handoff-gap chart', () => {
  it('draws one line per contender with gaps, named in its legend, and is pure', () => {
    const r = report([
      result('shardlock', [
        [50, 300],
        [99, 2_000],
      ]),
      result('<redlock>', [
        [50, 20_000],
        [99, 90_000],
      ]),
      result('none', []),
    ]);
    const svg = gapSvg(r);
    expect(svg).toMatch(/^<svg[^>]+viewBox="0 0 900 480"/);
    expect(svg.match(/<polyline class="gap"/g)).toHaveLength(2);
    expect(svg).toContain('&lt;redlock&gt;');
    expect(svg).not.toContain('>none<');
    expect(gapSvg(r)).toBe(svg);
  });

  it('puts a longer gap higher up', () => {
    const svg = gapSvg(
      report([
        result('a', [
          [50, 100],
          [99, 100_000],
        ]),
      ]),
    );
    const [first, second] = /points="([^"]+)"/
      .exec(svg)![1]!
      .split(' ')
      .map((point) => point.split(',').map(Number));
    expect(second![0]).toBeGreaterThan(first![0]!);
    expect(second![1]).toBeLessThan(first![1]!);
  });

  it('says so when no gap was measured', () => {
    expect(gapSvg(report([result('a', [])]))).toContain('no handoff gaps measured');
  });
});
