import { formatTable } from './report.js';
import type { BenchReport } from './results.js';

const thousands = (value: number): string => Math.round(value).toLocaleString('en-US');

/** The results as a Markdown table, one row per contender and node count. */
export function resultsTable(report: BenchReport): string {
  if (report.workload.keySpace !== null) return contendedTable(report);
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
      'pairs/CPU-s': thousands(r.pairsPerCpuSecond),
      failures: thousands(r.failures),
      errors: thousands(r.errors),
    })),
  );
}

const ms = (micros: number): string => (micros / 1000).toFixed(micros < 10_000 ? 2 : 1);
const percent = (share: number | null): string =>
  share === null ? '' : `${(share * 100).toFixed(1)} %`;

/**
 * The results of a hot-key run: grants/s against the ideal `keys × 1000 / hold`, key
 * utilisation, handoff gap, acquire wait, Redis commands per grant, client CPU and timeouts.
 */
function contendedTable(report: BenchReport): string {
  return formatTable(
    report.results.map((r) => {
      const c = r.contended;
      return {
        contender: r.contender,
        nodes: r.nodesUsed === r.nodes ? String(r.nodes) : `${r.nodesUsed} of ${r.nodes}`,
        'grants/s': thousands(c?.grantsPerSecond ?? r.pairsPerSecond),
        'of ideal': percent(c?.ofIdeal ?? null),
        'key util': percent(c?.utilisation ?? null),
        'gap p50 ms': c === null ? '' : ms(c.handoffGapMicros.p50),
        'gap p99 ms': c === null ? '' : ms(c.handoffGapMicros.p99),
        'wait p50 ms': ms(r.acquireMicros.p50),
        'wait p99 ms': ms(r.acquireMicros.p99),
        'wait max ms': ms(r.acquireMicros.max),
        // The mutex sends no command at all (null in the JSON).
        'cmds/grant': (r.commandsPerGrant ?? 0).toFixed(2),
        'pairs/CPU-s': thousands(r.pairsPerCpuSecond),
        timeouts: thousands(r.failures),
        errors: thousands(r.errors),
      };
    }),
  );
}

/** The header lines of a report: machine, workload and date. */
export function reportHeader(report: BenchReport): string {
  const { machine: m, workload: w } = report;
  const keys =
    w.keySpace === null
      ? 'a fresh key per pair'
      : `${w.keySpace} hot keys${w.zipf === 0 ? '' : ` (Zipf ${w.zipf})`}, wait timeout ${w.waitTimeoutMs ?? 0} ms`;
  const clients = w.clients === 1 ? '' : ` from ${w.clients} processes`;
  const retries = w.keySpace === null ? `, ${w.retries} retries` : '';
  return [
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, Redis ${m.redis ?? 'unknown'}`,
    `date: ${report.date}; ${report.cluster} cluster`,
    `workload: ${w.concurrency} in flight${clients}, ${keys}, ttl ${w.ttlMs} ms, hold ${w.holdMs} ms${retries}, retry delay ${w.retryDelayMs} ms, ${w.durationMs / 1000} s per contender`,
  ].join('\n');
}
