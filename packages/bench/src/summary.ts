import { formatTable } from './report.js';
import type { BenchReport } from './results.js';

const thousands = (value: number): string => Math.round(value).toLocaleString('en-US');

/** The results as a Markdown table, one row per contender and node count. */
export function resultsTable(report: BenchReport): string {
  return formatTable(
    report.results.map((r) => ({
      contender: r.contender,
      nodes: r.nodesUsed === r.nodes ? String(r.nodes) : `${r.nodesUsed} of ${r.nodes}`,
      'pairs/s': thousands(r.pairsPerSecond),
      '× raw': r.ratioToRaw === null ? '' : `${r.ratioToRaw.toFixed(2)}×`,
      'p50 µs': thousands(r.acquireMicros.p50),
      'p99 µs': thousands(r.acquireMicros.p99),
      'p99.9 µs': thousands(r.acquireMicros.p999),
      'CPU µs/pair': r.cpuMicrosPerPair.toFixed(1),
      failures: thousands(r.failures),
      errors: thousands(r.errors),
    })),
  );
}

/** The header lines of a report: machine, workload and date. */
export function reportHeader(report: BenchReport): string {
  const { machine: m, workload: w } = report;
  const keys = w.keySpace === null ? 'a fresh key per pair' : `${w.keySpace} hot keys`;
  return [
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, Redis ${m.redis ?? 'unknown'}`,
    `date: ${report.date}; ${report.cluster} cluster`,
    `workload: ${w.concurrency} in flight, ${keys}, ttl ${w.ttlMs} ms, hold ${w.holdMs} ms, ${w.retries} retries, ${w.durationMs / 1000} s per contender`,
  ].join('\n');
}
