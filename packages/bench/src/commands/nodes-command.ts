import { resolveClientOptions } from '@shardlock/core';
import { settingsText } from '@shardlock/core/internal';
import { HashRing } from '@shardlock/ring';
import { CLUSTER_HELP } from './cluster-input.js';
import { meetCluster } from './cluster.js';
import { EXIT } from './exit-codes.js';
import { println } from './io.js';
import { nodeProblems, type NodeProblem } from './node-problems.js';
import { bytes, duration, percent, printTable, toJson } from './output.js';
import type { Subcommand } from './subcommand.js';

const USAGE = `Usage: shardlock nodes [options]

Every node: its state as a client starting now would see it (up; quarantined: younger than
maxTtl + drift; down: unreachable), address, run_id, uptime, lock keys (a full SCAN), share
of the ring (of keys it owns first), used memory and maxmemory, maxmemory-policy, and the
fastest of three PINGs. Problems are flagged below the table: an eviction policy that can
drop locks, a node younger than maxTtl + drift, settings or an id that disagree with the
cluster's record, a node without a record. Exit 4 when a problem is flagged, 1 when a node
cannot be reached.

${CLUSTER_HELP}`;

/** One row of `shardlock nodes --json`. */
export interface NodeReport {
  readonly id: string;
  readonly address: string;
  readonly state: 'up' | 'quarantined' | 'down';
  readonly runId: string | undefined;
  readonly uptimeSeconds: number | undefined;
  readonly lockKeys: number | undefined;
  /** The node's exact share of the ring: the keys it owns (first replica in quorum mode). */
  readonly share: number;
  readonly usedMemory: number | undefined;
  readonly maxmemory: number | undefined;
  readonly maxmemoryPolicy: string | undefined;
  readonly roundTripMs: number | undefined;
  readonly redisVersion: string | undefined;
  readonly problems: readonly NodeProblem[];
}

/** `shardlock nodes`. */
export const NODES_COMMAND: Subcommand = {
  name: 'nodes',
  usage: USAGE,
  flags: {},
  positionals: { min: 0, max: 0, name: 'arguments' },
  async run({ input, json, io }) {
    const cluster = await meetCluster(input, { needIds: false, countLocks: true });
    const options = resolveClientOptions(cluster.options);
    const settings = settingsText(options);
    const quarantineMs = options.maxTtl + options.maxTtl * options.driftFactor + 2;
    const shares = new HashRing(
      options.nodes.map(({ id, weight }) => ({ id, weight })),
      { vnodes: options.vnodes },
    ).shares();
    const reports: NodeReport[] = cluster.facts.map((facts, i) => {
      const id = options.nodes[i]!.id;
      const problems = nodeProblems({
        id,
        error: facts.error,
        policy: facts.policy,
        maxmemory: facts.maxmemory,
        uptimeSeconds: facts.uptimeSeconds,
        record: facts.record,
        quarantineMs,
        settings,
        othersHaveRecord: cluster.facts.some((other, j) => j !== i && other.record !== undefined),
      });
      const young = problems.some((problem) => problem.code === 'young');
      return {
        id,
        address: facts.ref.address,
        state: facts.error !== undefined ? 'down' : young ? 'quarantined' : 'up',
        runId: facts.runId,
        uptimeSeconds: facts.uptimeSeconds,
        lockKeys: facts.lockKeys,
        share: shares.get(id) ?? 0,
        usedMemory: facts.usedMemory,
        maxmemory: facts.maxmemory,
        maxmemoryPolicy: facts.policy,
        roundTripMs: facts.roundTripMs,
        redisVersion: facts.redisVersion,
        problems,
      };
    });
    if (json) {
      println(io.stdout, toJson({ settings, nodes: reports }));
    } else {
      printTable(io.stdout, reports.map(row), 'no node');
      const flagged = reports.flatMap((r) =>
        r.problems.map((p) => `  ${r.id} (${p.code}): ${p.message}`),
      );
      println(
        io.stdout,
        flagged.length === 0 ? '\nno problem found' : `\nproblems:\n${flagged.join('\n')}`,
      );
    }
    if (reports.some((r) => r.state === 'down')) return EXIT.NODE_FAILED;
    return reports.some((r) => r.problems.length > 0) ? EXIT.PROBLEMS : EXIT.OK;
  },
};

function row(r: NodeReport): Record<string, string> {
  return {
    node: r.id,
    address: r.address,
    state: r.state,
    run_id: r.runId?.slice(0, 12) ?? '',
    uptime: r.uptimeSeconds === undefined ? '' : duration(r.uptimeSeconds * 1000),
    locks: r.lockKeys?.toLocaleString('en-US') ?? '?',
    share: percent(r.share),
    memory:
      r.usedMemory === undefined
        ? ''
        : `${bytes(r.usedMemory)} / ${r.maxmemory ? bytes(r.maxmemory) : 'no limit'}`,
    policy: r.maxmemoryPolicy ?? '',
    rtt: r.roundTripMs === undefined ? '' : `${r.roundTripMs.toFixed(2)} ms`,
    problems: r.problems.map((p) => p.code).join(', '),
  };
}
