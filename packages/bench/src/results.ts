import { cpus, totalmem } from 'node:os';
import type { ContendedResult } from './contended/tally.js';
import type { LatencySummary } from './histogram.js';
import type { LoadResult } from './load.js';

/** Version tag of the JSON report; it changes only when a field changes meaning. */
export const REPORT_SCHEMA = 'shardlock-bench/1';

/** The machine a run was measured on. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** `redis_version` of the first node, when it answered. */
  readonly redis: string | undefined;
}

/** The workload every contender ran. */
export interface WorkloadInfo {
  readonly durationMs: number;
  /** Interleaved rounds the duration was cut into. */
  readonly rounds: number;
  readonly operations: number | undefined;
  readonly concurrency: number;
  /** Distinct keys; `null` means a fresh key per pair (no contention). */
  readonly keySpace: number | null;
  /** Zipf exponent of the hot key choice (0 uniform). */
  readonly zipf: number;
  /** Load processes; `concurrency` is their total. */
  readonly clients: number;
  /** How long a contended acquire may wait, in ms; `null` for fresh keys. */
  readonly waitTimeoutMs: number | null;
  readonly ttlMs: number;
  readonly holdMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
}

/** One contender at one node count. */
export interface ContenderResult {
  readonly contender: string;
  readonly description: string;
  /** Nodes the run had (redlock and redis-semaphore use one or three of them). */
  readonly nodes: number;
  /** Nodes this contender sent traffic to. */
  readonly nodesUsed: number;
  readonly pairs: number;
  readonly pairsPerSecond: number;
  readonly failures: number;
  readonly errors: number;
  readonly firstError: string | null;
  /** Acquire latency in microseconds. */
  readonly acquireMicros: LatencySummary;
  readonly cpuMicrosPerPair: number;
  /** Pairs per second of client CPU, summed over the load processes. */
  readonly pairsPerCpuSecond: number;
  /** Load processes. */
  readonly clients: number;
  /**
   * Redis commands per grant (per pair on fresh keys): what the load processes sent over the
   * measured slices (`sent-commands.ts`; health-check PINGs and INFO left out), a whole
   * batch call or script call counting one; `null` for a contender that sends none (mutex).
   */
  readonly commandsPerGrant: number | null;
  /**
   * What the nodes ran over the run, by command name, from `INFO commandstats` deltas: on
   * Redis 7.0 this also counts each call a Lua script makes inside the server.
   */
  readonly commands: Readonly<Record<string, number>>;
  /** Hot-key figures (`--keys`); `null` for fresh keys. */
  readonly contended: ContendedResult | null;
  /** pairs/s over the raw baseline's at the same node count; `null` without a raw run. */
  readonly ratioToRaw: number | null;
}

/** A whole run, as `--json` writes it. */
export interface BenchReport {
  readonly schema: typeof REPORT_SCHEMA;
  /** ISO 8601 start time. */
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  /** `embedded`: local redis-server processes the tool started; `external`: `--nodes`. */
  readonly cluster: 'embedded' | 'external';
  readonly workload: WorkloadInfo;
  readonly results: readonly ContenderResult[];
}

/** What this machine is. */
export function machineInfo(redis: string | undefined): MachineInfo {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    redis,
  };
}

/** What a contender's run measured besides its load: where, from how many processes, at what cost. */
export interface RunFacts {
  readonly nodes: number;
  readonly nodesUsed: number;
  readonly clients: number;
  readonly commandsPerGrant: number | null;
  readonly commands: Readonly<Record<string, number>>;
  readonly contended: ContendedResult | null;
}

/** One result row from a finished load run. */
export function contenderResult(
  contender: { name: string; description: string },
  { nodes, nodesUsed, clients, commandsPerGrant, commands, contended }: RunFacts,
  load: LoadResult,
): ContenderResult {
  return {
    contender: contender.name,
    description: contender.description,
    nodes,
    nodesUsed,
    pairs: load.pairs,
    pairsPerSecond: Math.round(load.pairsPerSecond),
    failures: load.failures,
    errors: load.errors,
    firstError: load.firstError ?? null,
    acquireMicros: load.acquire,
    cpuMicrosPerPair: Math.round(load.cpuMicrosPerPair * 10) / 10,
    pairsPerCpuSecond: Math.round(load.pairsPerCpuSecond),
    clients,
    commandsPerGrant,
    commands,
    contended,
    ratioToRaw: null,
  };
}

/** Fills `ratioToRaw` from the raw baseline at the same node count. */
export function withRatios(results: readonly ContenderResult[]): ContenderResult[] {
  return results.map((result) => {
    const raw = results.find((r) => r.contender === 'raw' && r.nodes === result.nodes);
    const ratio =
      raw === undefined || raw.pairsPerSecond === 0
        ? null
        : Math.round((result.pairsPerSecond / raw.pairsPerSecond) * 100) / 100;
    return { ...result, ratioToRaw: ratio };
  });
}
